/**
 * The `probe` flags the revocation kinds (ocsp, crl) share. Certificate files are read and parsed
 * when the flag is given, so a bad file is a usage error naming the flag, before anything is sent.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { ProbeFlag } from './kind.js';

async function readCertFlag(flag: string, path: unknown): Promise<string> {
  if (typeof path !== 'string' || path === '') throw new UsageError(`--${flag} needs a file (e.g. --${flag} ./issuer.pem)`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  // The X.509 stack loads only when a certificate flag is given (start-up of every other probe).
  const { parseCert } = await import('../trust/certfile.js');
  try {
    parseCert(bytes, path);
  } catch (err) {
    throw new UsageError(`--${flag} ${path}: ${(err as Error).message} (PEM or DER certificate expected)`);
  }
  return path;
}

/** A certificate file flag (`--cert`, `--issuer`). */
export function certFileFlag(name: string, option: string, describe: string): ProbeFlag {
  return { name, option, type: 'string', describe, parse: (v) => readCertFlag(name, v) };
}

export const ISSUER_FLAG = certFileFlag('issuer', 'issuer', "the issuer's certificate (checks the signature)");

export const MAX_BYTES_FLAG: ProbeFlag = {
  name: 'max-bytes',
  option: 'maxBytes',
  type: 'number',
  describe: 'download cap in bytes (default 64 KiB / 20 MiB)',
  parse: (n) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1024) throw new UsageError('--max-bytes must be a whole number of bytes ≥ 1024 (e.g. --max-bytes 1048576)');
    return n;
  },
};
