/**
 * Fetch the certificate chain a TLS server presents (directly or through the run's proxy), for
 * probes that need a real certificate to ask about: `ocsp` with `certFrom`.
 */
import { connect as tlsConnect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { resolveTarget } from '../net/target.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec } from '../types.js';
import { dial } from '../net/dial.js';
import { proxyFor } from '../net/proxy.js';
import { sniName } from '../util/ip.js';
import { absorbErrors } from '../util/sockets.js';
import { walkPeerChain } from './chain.js';
import { because } from '../reasons.js';

export { parseHostPort } from './url.js';

/** The DER certificates of the chain `host:port` presents, leaf first. */
export async function fetchPeerChain(host: string, port: number, spec: ProbeSpec, ctx: ProbeContext): Promise<{ ok: true; ders: Buffer[] } | { ok: false; outcome: ProbeOutcome }> {
  const proxy = proxyFor(ctx.proxy, 'https', host, port);
  let address = host;
  if (!proxy) {
    const t = await resolveTarget({ ...spec, host, port }, ctx);
    if (!t.ok) return t;
    address = t.address;
  }
  const d = await dial({ address, host, port, ...(proxy ? { proxy } : {}), signal: ctx.signal, timeoutMs: spec.timeoutMs });
  if (!d.ok) return d;
  let s: TLSSocket | undefined;
  try {
    return await new Promise((resolve) => {
      const onAbort = (): void => resolve({ ok: false, outcome: { ...because('TLS_HANDSHAKE_TIMEOUT'), detail: `the TLS handshake with ${host}:${port} did not finish in time` } });
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      s = absorbErrors(tlsConnect({ socket: d.socket, ...(sniName(host) ? { servername: host } : {}), rejectUnauthorized: false }));
      s.once('secureConnect', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        const peer = s!.getPeerCertificate(true) as DetailedPeerCertificate;
        if (!peer?.raw) return resolve({ ok: false, outcome: { ...because('TLS_NO_CERTIFICATE'), detail: `${host}:${port} presented no certificate` } });
        resolve({ ok: true, ders: walkPeerChain(peer, 4).certs.map((c) => c.raw) });
      });
      s.once('error', (err) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ ok: false, outcome: { ...because('TLS_HANDSHAKE_FAILED'), detail: `TLS handshake with ${host}:${port} failed: ${err.message}` } });
      });
    });
  } finally {
    s?.destroy();
    d.socket.destroy();
  }
}
