/**
 * Open a TCP stream to a destination, directly or through a CONNECT tunnel, with the deadline as
 * an AbortSignal. Shared by the probers that can go through a proxy (tls, http over TLS, ws).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { classify, errorCode, synTimeout } from './classify.js';
import type { ProbeOutcome } from '../types.js';
import { openTunnel, type ProxyEndpoint } from './proxy.js';
import { absorbErrors } from '../util/sockets.js';

export type DialResult =
  | { ok: true; socket: Socket; connectMs: number; tunnelMs?: number; via?: string }
  | { ok: false; outcome: ProbeOutcome };

export interface DialOptions {
  /** Address to connect to when direct (already resolved). */
  address: string;
  /** Name (or address) the proxy is asked to CONNECT to. */
  host: string;
  port: number;
  proxy?: ProxyEndpoint;
  signal: AbortSignal;
  timeoutMs: number;
}

/** Connect, directly or through `proxy`. Never throws for network conditions. */
export function dial(o: DialOptions): Promise<DialResult> {
  if (o.proxy) return openTunnel(o.proxy, o.host, o.port, o.signal, o.timeoutMs);
  return new Promise<DialResult>((resolve) => {
    const t0 = performance.now();
    // The caller gets the socket without our one-shot listener: the permanent one keeps a late error harmless.
    const s = absorbErrors(netConnect({ host: o.address, port: o.port, noDelay: true }));
    let done = false;
    const finish = (r: DialResult): void => {
      if (done) return;
      done = true;
      o.signal.removeEventListener('abort', onAbort);
      s.removeListener('error', onError);
      if (!r.ok) s.destroy();
      resolve(r);
    };
    const onAbort = (): void =>
      finish({ ok: false, outcome: synTimeout(o.timeoutMs) });
    const onError = (err: Error): void => finish({ ok: false, outcome: { ...classify(errorCode(err), 'connect'), phases: { connectMs: performance.now() - t0 } } });
    if (o.signal.aborted) return onAbort();
    o.signal.addEventListener('abort', onAbort, { once: true });
    s.once('error', onError);
    s.once('connect', () => finish({ ok: true, socket: s, connectMs: performance.now() - t0 }));
  });
}
