/**
 * Certificates from files (PEM or DER), parsed both by pkijs (for OCSP/CRL structures) and by
 * node:crypto (for quick facts and signature checks). Read once per run per path.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

export interface LoadedCert {
  der: Buffer;
  pki: pkijs.Certificate;
  x509: X509Certificate;
}

/** DER of the first PEM block with this label, or the bytes themselves when they are not PEM. */
export function pemOrDer(bytes: Buffer, label: string): Buffer | undefined {
  const text = bytes.subarray(0, 64).toString('latin1');
  if (!text.includes('-----BEGIN') && !bytes.toString('latin1').includes('-----BEGIN')) return bytes;
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`);
  const m = re.exec(bytes.toString('latin1'));
  return m ? Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64') : undefined;
}

/** Parse one certificate (PEM or DER). Throws with a plain message. */
export function parseCert(bytes: Buffer, what: string): LoadedCert {
  const der = pemOrDer(bytes, 'CERTIFICATE');
  if (!der || der.length === 0) throw new Error(`${what} holds no certificate`);
  const asn = asn1js.fromBER(new Uint8Array(der));
  if (asn.offset === -1) throw new Error(`${what} is not a certificate (bad DER)`);
  let pki: pkijs.Certificate;
  let x509: X509Certificate;
  try {
    pki = new pkijs.Certificate({ schema: asn.result });
    x509 = new X509Certificate(der);
  } catch (err) {
    throw new Error(`${what} is not a certificate (${(err as Error).message})`);
  }
  return { der, pki, x509 };
}

const cache = new Map<string, LoadedCert | { error: string }>();
/** Load a certificate file once per run; errors come back as a message, never thrown. */
export function loadCertFile(path: string): LoadedCert | { error: string } {
  let e = cache.get(path);
  if (!e) {
    try {
      e = parseCert(readFileSync(path), path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      e = { error: code ? `cannot read ${path}: ${code}` : (err as Error).message };
    }
    cache.set(path, e);
  }
  return e;
}

/** ArrayBuffer view of a Buffer (pkijs wants BufferSource). */
export function ab(b: Buffer | Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
