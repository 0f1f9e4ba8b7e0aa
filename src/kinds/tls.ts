/**
 * The description of the `tls` kind (its prober: ../probers/tls.ts, loaded when a run has
 * a probe of this kind).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  servername: { type: 'string', minLength: 1, description: 'SNI name (default: the target when it is a name).' },
  expectIssuers: {
    type: 'array',
    items: { type: 'string', minLength: 1 },
    minItems: 1,
    description: 'Issuer names the chain must contain (case-insensitive substrings, e.g. DigiCert); none matching is an interception reason.',
  },
  ca: { type: 'string', minLength: 1, description: 'PEM file of the expected root(s), instead of the Mozilla store.' },
  expiryWarnDays: { type: 'integer', minimum: 0, description: 'Report TLS_CERT_EXPIRING this many days before expiry (default 14).' },
  interceptionOnly: {
    type: 'boolean',
    description: "Judge only TLS interception (is the vendor's TLS re-signed on the way?): for bare addresses, probed without SNI, whose default certificate need not name them. Other certificate findings are recorded, not failed.",
  },
} as const satisfies OptionSchemas;

/** The options of a tls probe. */
export type TlsOptions = OptionsOf<typeof OPTIONS>;

/** `--ca FILE`: readable, and holding a PEM certificate, before anything is sent. */
async function caFlag(v: unknown): Promise<string> {
  if (typeof v !== 'string' || !v) throw new UsageError('--ca needs a PEM file (e.g. --ca ./corp-root.pem)');
  let text: string;
  try {
    text = readFileSync(v, 'utf8');
  } catch (err) {
    throw new UsageError(`--ca ${v}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // The trust stack loads only when --ca is given.
  const { parsePemBundle } = await import('../trust/roots.js');
  if (parsePemBundle(text).length === 0) throw new UsageError(`--ca ${v}: no PEM certificate in it (-----BEGIN CERTIFICATE----- expected)`);
  return v;
}

/** tls: the handshake, the presented chain and the interception verdict. */
export const kind: KindDescriptor<TlsOptions> = {
  name: 'tls',
  summary: 'a TLS handshake completes, with the chain checked for interception and expiry',
  transport: 'tcp',
  target: 'host:port',
  everyAddress: true,
  proxy: { scheme: () => 'https', compareDirect: true },
  options: OPTIONS,
  flags: [
    {
      name: 'servername',
      option: 'servername',
      type: 'string',
      describe: 'SNI name (default: the host when it is a name)',
      parse: (v) => {
        if (typeof v !== 'string' || !v) throw new UsageError('--servername needs a name (e.g. --servername www.example.com)');
        return v;
      },
    },
    { name: 'ca', option: 'ca', type: 'string', describe: 'PEM file of the expected root(s), instead of the Mozilla store', parse: caFlag },
    {
      // Not `array: true`: a greedy array would swallow the positional target after it; repeats still collect.
      name: 'expect-issuer',
      option: 'expectIssuers',
      type: 'string',
      describe: 'an issuer name the chain must contain (repeat for alternatives)',
      parse: (v) => {
        const list = [v].flat().map(String).filter((s) => s.trim() !== '');
        if (list.length === 0) throw new UsageError('--expect-issuer needs a name (e.g. --expect-issuer DigiCert)');
        return list;
      },
    },
  ],
};
