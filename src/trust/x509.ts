/**
 * The X.509 stack (asn1js, pkijs and the certificate-file helpers built on them), loaded on first
 * use: importing it costs ~100 ms that start-up, and every probe that is not ocsp or crl, should
 * not pay (the kinds' descriptions are imported whenever a catalog is read).
 */
export interface X509Stack {
  asn1js: typeof import('asn1js');
  pkijs: typeof import('pkijs');
  certfile: typeof import('./certfile.js');
}

let loading: Promise<X509Stack> | undefined;

/** The stack, imported once. */
export function x509Stack(): Promise<X509Stack> {
  loading ??= Promise.all([import('asn1js'), import('pkijs'), import('./certfile.js')]).then(([asn1js, pkijs, certfile]) => ({ asn1js, pkijs, certfile }));
  return loading;
}
