/**
 * A self-signed certificate for the reflector's wss endpoint, generated at start when no
 * --cert/--key is given. Clients cannot validate it against a CA, so the reflector prints its
 * SHA-256 fingerprint and clients pin it (`--reflector-fingerprint`).
 */
import { createHash, webcrypto, X509Certificate } from 'node:crypto';

export interface CertPair {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, `AB:CD:…` (the form Node's `fingerprint256` uses). */
  fingerprint: string;
}

/** Generate an ECDSA P-256 self-signed certificate valid for a year, for the given names/addresses. */
export async function selfSignedCert(names: string[]): Promise<CertPair> {
  // Loaded only here: @peculiar/x509 (with tsyringe and its Reflect polyfill) adds hundreds of
  // milliseconds to start-up, which every CLI run would pay otherwise.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const san = names.map((n) => (/^[0-9.]+$/.test(n) || n.includes(':') ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: 'CN=netcheck reflector',
    // A little in the past: a client whose clock lags should not reject a fresh certificate.
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    signingAlgorithm: alg,
    keys: keys as never,
    extensions: san.length ? [new x509.SubjectAlternativeNameExtension(san)] : [],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  const pem = cert.toString('pem');
  return { cert: pem, key, fingerprint: fingerprintOf(pem) };
}

/** SHA-256 fingerprint of a PEM certificate, `AB:CD:…`. */
export function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Normalise a pin given by a user (any case, with or without colons) to `AB:CD:…`. */
export function normaliseFingerprint(pin: string): string | undefined {
  const hex = pin.replace(/^sha256[:/]/i, '').replace(/[:\s]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** SHA-256 of raw DER bytes as `AB:CD:…` (used when a peer certificate comes as DER). */
export function fingerprintOfDer(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}
