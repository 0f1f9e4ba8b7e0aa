/**
 * The trust-path flags of `netcheck probe` (issue 4): `tls HOST:PORT [--servername] [--ca]
 * [--expect-issuer]…`, `ocsp URL --cert --issuer`, `crl URL [--issuer]`. Validated here so a bad
 * file or a flag given to the wrong kind is a usage error naming the flag, before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { parseHostPort, parseUrlTarget, URL_KINDS } from '../../trust/url.js';

export interface TrustProbeInput {
  /** For URL kinds: the URL, used as the line's target. */
  url?: string;
  /** Check options to add. */
  options: Record<string, unknown>;
}

async function readCertFlag(flag: string, path: unknown): Promise<string> {
  if (typeof path !== 'string' || path === '') throw new UsageError(`--${flag} needs a file (e.g. --${flag} ./issuer.pem)`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // The X.509 stack loads only when a certificate flag is given (start-up of every other probe).
  const { parseCert } = await import('../../trust/certfile.js');
  try {
    parseCert(bytes, path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: ${(err as Error).message} (PEM or DER certificate expected)`);
  }
  return path;
}

/** Validate the trust flags for `kind` (already known to belong to it) and turn them into check options. */
export async function trustProbeInput(kind: string, target: string, argv: Record<string, unknown>): Promise<TrustProbeInput> {
  const options: Record<string, unknown> = {};
  let url: string | undefined;
  if (URL_KINDS.has(kind)) {
    const u = parseUrlTarget(target);
    if ('error' in u) throw new UsageError(`target: ${u.error} (e.g. netcheck probe ${kind} http://${kind}.example.com)`);
    url = u.url;
    if (argv['max-bytes'] !== undefined) {
      const n = argv['max-bytes'];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1024) throw new UsageError('--max-bytes must be a whole number of bytes ≥ 1024 (e.g. --max-bytes 1048576)');
      options.maxBytes = n;
    }
  }
  if (kind === 'tls') {
    if (argv.servername !== undefined) {
      if (typeof argv.servername !== 'string' || !argv.servername) throw new UsageError('--servername needs a name (e.g. --servername www.example.com)');
      options.servername = argv.servername;
    }
    if (argv.ca !== undefined) {
      if (typeof argv.ca !== 'string' || !argv.ca) throw new UsageError('--ca needs a PEM file (e.g. --ca ./corp-root.pem)');
      let text: string;
      try {
        text = readFileSync(argv.ca, 'utf8');
      } catch (err) {
        throw new UsageError(`--ca ${argv.ca}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
      const { parsePemBundle } = await import('../../trust/roots.js');
      if (parsePemBundle(text).length === 0) throw new UsageError(`--ca ${argv.ca}: no PEM certificate in it (-----BEGIN CERTIFICATE----- expected)`);
      options.ca = argv.ca;
    }
    const ei = argv['expect-issuer'];
    if (ei !== undefined) {
      const list = (Array.isArray(ei) ? ei : [ei]).map(String).filter((s) => s.trim() !== '');
      if (list.length === 0) throw new UsageError('--expect-issuer needs a name (e.g. --expect-issuer DigiCert)');
      options.expectIssuers = list;
    }
  }
  if (kind === 'ocsp') {
    if ((argv.cert === undefined) !== (argv.issuer === undefined)) {
      throw new UsageError('--cert and --issuer go together: the OCSP request names the certificate by its issuer (e.g. --cert site.pem --issuer ca.pem)');
    }
    if (argv.cert !== undefined) options.cert = await readCertFlag('cert', argv.cert);
    if (argv.issuer !== undefined) options.issuer = await readCertFlag('issuer', argv.issuer);
    if (argv['cert-from'] !== undefined) {
      if (argv.cert !== undefined) throw new UsageError('--cert-from and --cert contradict each other: ask about a file, or about what a server presents (e.g. --cert-from www.example.com:443)');
      if (typeof argv['cert-from'] !== 'string' || !parseHostPort(argv['cert-from'])) throw new UsageError(`--cert-from '${String(argv['cert-from'])}': use HOST[:PORT] (e.g. --cert-from www.example.com:443)`);
      options.certFrom = argv['cert-from'];
    }
  }
  if (kind === 'crl' && argv.issuer !== undefined) options.issuer = await readCertFlag('issuer', argv.issuer);
  return { ...(url ? { url } : {}), options };
}
