/**
 * The description of the `ocsp` kind (its prober: ../probers/ocsp.ts, loaded when a run has
 * a probe of this kind).
 */
import { parseHostPort } from '../trust/url.js';
import { urlScheme, type UrlOption } from '../trust/url.js';
import { certFileFlag, ISSUER_FLAG, MAX_BYTES_FLAG } from './trust-flags.js';
import { UsageError } from '../errors.js';
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  cert: { type: 'string', minLength: 1, description: 'PEM/DER certificate to ask about (level 3 needs it and issuer).' },
  issuer: { type: 'string', minLength: 1, description: "PEM/DER certificate of cert's issuer." },
  certFrom: { type: 'string', minLength: 1, description: 'HOST[:PORT] whose TLS chain supplies the certificate and issuer to ask about (instead of cert/issuer).' },
  maxBytes: { type: 'integer', minimum: 1024, description: 'Largest response read (default 64 KiB).' },
} as const satisfies OptionSchemas;

/** The options of an ocsp probe: the catalog's, and the URL target the plan adds. */
export type OcspOptions = OptionsOf<typeof OPTIONS> & UrlOption;

/** ocsp: an OCSP responder, graded 1 TCP → 2 HTTP/OCSP answer → 3 valid signed status of a real certificate. */
export const kind: KindDescriptor<OcspOptions> = {
  name: 'ocsp',
  summary: 'an OCSP responder answers (level 3: a signed, fresh status of a real certificate)',
  transport: 'tcp',
  target: 'url',
  everyAddress: true,
  proxy: { scheme: urlScheme, compareDirect: true },
  options: OPTIONS,
  flags: [
    certFileFlag('cert', 'cert', 'certificate to ask about (PEM or DER); needs --issuer'),
    {
      name: 'cert-from',
      option: 'certFrom',
      type: 'string',
      describe: 'ask about the certificate HOST[:PORT] presents (its leaf and issuer)',
      parse: (v) => {
        if (typeof v !== 'string' || !parseHostPort(v)) throw new UsageError(`--cert-from '${String(v)}': use HOST[:PORT] (e.g. --cert-from www.example.com:443)`);
        return v;
      },
    },
    ISSUER_FLAG,
    MAX_BYTES_FLAG,
  ],
  checkFlags: (argv) => {
    if ((argv.cert === undefined) !== (argv.issuer === undefined)) {
      throw new UsageError('--cert and --issuer go together: the OCSP request names the certificate by its issuer (e.g. --cert site.pem --issuer ca.pem)');
    }
    if (argv['cert-from'] !== undefined && argv.cert !== undefined) {
      throw new UsageError('--cert-from and --cert contradict each other: ask about a file, or about what a server presents (e.g. --cert-from www.example.com:443)');
    }
  },
};
