/**
 * An http.Agent whose connections are CONNECT tunnels through a proxy (then TLS when asked), for
 * clients built on node:http such as `ws`. Browsers tunnel ws:// and wss:// alike through CONNECT.
 */
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ProbeOutcome } from '../types.js';
import { openTunnel, type ProxyEndpoint } from './proxy.js';
import { absorbErrors } from '../util/sockets.js';

export interface TunnelAgentOptions {
  proxy: ProxyEndpoint;
  host: string;
  port: number;
  /** Wrap the tunnel in TLS (wss://, https://). */
  tls?: { servername?: string; rejectUnauthorized: boolean };
  signal: AbortSignal;
  timeoutMs: number;
  /** Told why the tunnel failed (the outcome carries the proxy's reason), before the request errors. */
  onProxyFailure: (o: ProbeOutcome) => void;
}

/** One-connection agent through a CONNECT tunnel. */
export function tunnelAgent(o: TunnelAgentOptions): Agent {
  // https.request insists on an https agent; the TLS itself is done below, over the tunnel.
  const agent = o.tls ? new HttpsAgent({ keepAlive: false, maxSockets: 1 }) : new Agent({ keepAlive: false, maxSockets: 1 });
  (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, cb: (err: Error | null, s?: Duplex) => void): undefined => {
    openTunnel(o.proxy, o.host, o.port, o.signal, o.timeoutMs).then(
      (t) => {
        if (!t.ok) {
          o.onProxyFailure(t.outcome);
          cb(Object.assign(new Error(t.outcome.detail ?? t.outcome.reason), { code: 'NC_PROXY' }));
          return;
        }
        if (!o.tls) return cb(null, t.socket);
        const s = absorbErrors(tlsConnect({ socket: t.socket, ...(o.tls.servername ? { servername: o.tls.servername } : {}), rejectUnauthorized: o.tls.rejectUnauthorized, ALPNProtocols: ['http/1.1'] }));
        cb(null, s);
      },
      (err: Error) => cb(err),
    );
    return undefined;
  };
  return agent;
}
