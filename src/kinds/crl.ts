/**
 * The description of the `crl` kind (its prober: ../probers/crl.ts, loaded when a run has
 * a probe of this kind).
 */
import { urlScheme, type UrlOption } from '../trust/url.js';
import { ISSUER_FLAG, MAX_BYTES_FLAG } from './trust-flags.js';
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  issuer: { type: 'string', minLength: 1, description: "PEM/DER certificate of the CRL's issuer, to check its signature." },
  maxBytes: { type: 'integer', minimum: 1024, description: 'Largest CRL downloaded (default 20 MiB).' },
} as const satisfies OptionSchemas;

/** The options of a crl probe: the catalog's, and the URL target the plan adds. */
export type CrlOptions = OptionsOf<typeof OPTIONS> & UrlOption;

/** crl: a CRL endpoint, graded 1 TCP → 2 HTTP answer → 3 a parsed, fresh CRL (signed by issuer when given). */
export const kind: KindDescriptor<CrlOptions> = {
  name: 'crl',
  summary: 'a CRL downloads (level 3: parses, is fresh and, with the issuer, validly signed)',
  transport: 'tcp',
  target: 'url',
  everyAddress: true,
  proxy: { scheme: urlScheme, compareDirect: true },
  options: OPTIONS,
  flags: [ISSUER_FLAG, MAX_BYTES_FLAG],
};
