/**
 * Opening a WebSocket (ws or wss) for `ws-idle` and `ws-hold`: to the resolved address, with the
 * name kept for Host and SNI, OS keepalive off, no compression, and optional certificate pinning
 * (a netcheck reflector with a self-signed certificate prints its SHA-256 fingerprint).
 */
import { connect as netConnect, type NetConnectOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
// Static: this module loads with the ws-hold/ws-idle probers, before any deadline starts.
import { WebSocket as WS, type WebSocket } from 'ws';
import { normaliseFingerprint } from '../reflector/cert.js';
import { REFLECTOR_DEFAULTS } from '../reflector/protocol.js';
import type { WsOptions } from '../kinds/ws-options.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec } from '../types.js';
import { classify, errorCode, synTimeout } from '../net/classify.js';
import { resolveTarget } from '../net/target.js';
import { proxyFor } from '../net/proxy.js';
import { tunnelAgent } from '../net/proxy-agent.js';
import { hostPort, sniName } from '../util/ip.js';
import { absorbErrors } from '../util/sockets.js';
import { because } from '../reasons.js';

export interface WsOpened {
  ok: true;
  ws: WebSocket;
  socket: Socket;
  address: string;
}

/** Options shared by the WebSocket kinds. */
export function wsUrlParts(spec: ProbeSpec<WsOptions>): { tls: boolean; path: string; pin?: string } {
  const { tls = spec.port === 443, path = REFLECTOR_DEFAULTS.wsPath, fingerprint: pin } = spec.options;
  return { tls, path, ...(pin ? { pin } : {}) };
}

/**
 * Connect within `timeoutMs` (TCP connect, TLS and the HTTP upgrade together); an outcome explains
 * any failure, classified like the other probers: SYN_TIMEOUT before the connection, then
 * TLS_HANDSHAKE_TIMEOUT, then WS_HANDSHAKE_TIMEOUT when the upgrade got no answer.
 */
export async function openWebSocket(spec: ProbeSpec<WsOptions>, ctx: ProbeContext, timeoutMs: number): Promise<WsOpened | { ok: false; outcome: ProbeOutcome }> {
  // Through a proxy (issue 4): a CONNECT tunnel for ws:// and wss:// alike, and the proxy resolves the name.
  const proxy = proxyFor(ctx.proxy, 'https', spec.host, spec.port);
  const target = proxy ? undefined : await resolveTarget(spec, ctx);
  if (target && !target.ok) return target;
  const address = target?.address ?? spec.host;
  const { tls, path, pin } = wsUrlParts(spec);
  const want = pin ? normaliseFingerprint(pin) : undefined;
  // The run's reflector pin (--reflector-fingerprint) is an extra trust anchor, not a replacement:
  // a certificate a CA vouches for still passes; one no CA vouches for passes only if it is this one.
  const extra = !want && tls && ctx.reflectorFingerprint ? normaliseFingerprint(ctx.reflectorFingerprint) : undefined;
  if (pin && !want) return { ok: false, outcome: { ...because('BAD_FINGERPRINT'), detail: `'${pin}' is not a SHA-256 fingerprint (64 hex digits)` } };
  const hostHeader = hostPort(spec.host);
  const url = `${tls ? 'wss' : 'ws'}://${hostPort(address, spec.port)}${path}`;
  let proxyFailure: ProbeOutcome | undefined;
  // The upgrade's own deadline: aborted at `timeoutMs` or with the probe. A tunnel through a proxy
  // gives up with it, rather than at the probe's deadline (minutes for ws-hold).
  const upgrade = new AbortController();
  const onProbeAbort = (): void => upgrade.abort();
  if (ctx.signal.aborted) upgrade.abort();
  else ctx.signal.addEventListener('abort', onProbeAbort, { once: true });
  const agent = proxy
    ? tunnelAgent({
        proxy,
        host: spec.host,
        port: spec.port!,
        ...(tls ? { tls: { ...(sniName(spec.host) ? { servername: spec.host } : {}), rejectUnauthorized: !want && !extra } } : {}),
        signal: upgrade.signal,
        timeoutMs,
        onProxyFailure: (o) => (proxyFailure = o),
      })
    : undefined;
  return new Promise((resolve) => {
    let done = false;
    let pinFailed: string | undefined;
    // How far the upgrade got, for the reason when the deadline cuts it (direct connections only:
    // through a proxy the tunnel reports its own failures).
    let stage: 'connect' | 'tls' | 'upgrade' = proxy ? 'upgrade' : 'connect';
    const createConnection = (o: Record<string, unknown>): Socket => {
      // As ws's own connectors do: `path` holds the HTTP path here, not a Unix socket, and an IP
      // literal is no SNI name.
      const opts = { ...o, path: o.socketPath } as unknown as ConnectionOptions & NetConnectOpts;
      if (tls && opts.servername === undefined) opts.servername = sniName(String(o.host)) ?? '';
      const s = absorbErrors(tls ? tlsConnect(opts) : netConnect(opts));
      s.once('connect', () => (stage = tls ? 'tls' : 'upgrade'));
      if (tls) s.once('secureConnect', () => (stage = 'upgrade'));
      return s;
    };
    // ws's own handshakeTimeout is not used: it ends in an error without a code (reported as
    // UNKNOWN), and it cannot tell a dropped SYN from a server that never answers the upgrade.
    const ws = absorbErrors(
      new WS(url, {
        ...(agent ? { agent } : { createConnection: createConnection as never }),
        perMessageDeflate: false,
        headers: { Host: `${hostHeader}:${spec.port}` },
        ...(sniName(spec.host) ? { servername: spec.host } : {}),
        // With a pin, the pin is the trust decision (a self-signed reflector); otherwise CA validation.
        ...(want || extra ? { rejectUnauthorized: false } : {}),
      }),
    );
    const timer = setTimeout(() => {
      upgrade.abort();
      finish({ ok: false, outcome: upgradeTimeout(stage, timeoutMs) });
    }, timeoutMs);
    const finish = (r: WsOpened | { ok: false; outcome: ProbeOutcome }): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      ctx.signal.removeEventListener('abort', onProbeAbort);
      if (!r.ok) {
        upgrade.abort();
        ws.terminate();
      }
      resolve(r);
    };
    const onAbort = (): void => finish({ ok: false, outcome: { ...because('INTERRUPTED'), detail: 'stopped before the WebSocket opened' } });
    if (ctx.signal.aborted) return onAbort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    ws.once('upgrade', (res) => {
      const sock = res.socket as Socket;
      // Keepalive off: its probes would refresh the firewall state an idle check measures.
      sock.setKeepAlive(false);
      if (extra && !(sock as TLSSocket).authorized) {
        const got = (sock as TLSSocket).getPeerCertificate?.()?.fingerprint256;
        if (got !== extra) {
          const why = String((sock as TLSSocket).authorizationError ?? 'not trusted');
          finish({ ok: false, outcome: { ...because('TLS_UNTRUSTED'), detail: `TLS certificate not trusted (${why}) and not the reflector's pinned one (SHA-256 ${got ?? 'none'})` } });
        }
      }
      if (want) {
        const got = (sock as TLSSocket).getPeerCertificate?.()?.fingerprint256;
        if (got !== want) {
          pinFailed = got ?? 'none';
          finish({ ok: false, outcome: { ...because('TLS_PIN_MISMATCH'), detail: `the server's certificate (SHA-256 ${pinFailed}) is not the pinned one (${want}): not the reflector you meant, or TLS interception` } });
        }
      }
    });
    ws.once('open', () => {
      const sock = (ws as unknown as { _socket: Socket })._socket;
      finish({ ok: true, ws, socket: sock, address });
    });
    ws.once('unexpected-response', (_req, res) => {
      finish({ ok: false, outcome: { ...because('WS_UPGRADE_REFUSED'), detail: `the server answered the WebSocket upgrade with HTTP ${res.statusCode}` } });
    });
    ws.on('error', (err) => {
      if (done) return;
      if (proxyFailure) return finish({ ok: false, outcome: proxyFailure });
      const code = errorCode(err);
      if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        finish({ ok: false, outcome: { ...because('TLS_UNTRUSTED'), detail: `TLS certificate not trusted (${code}); for a reflector with a self-signed certificate, pin its fingerprint` } });
        return;
      }
      if (stage === 'tls' && (code === 'ECONNRESET' || code === 'EPIPE')) {
        finish({ ok: false, outcome: { ...because('TLS_RESET'), detail: 'the connection was reset or closed during the TLS handshake (a filtering proxy or firewall may be rejecting it)' } });
        return;
      }
      finish({ ok: false, outcome: classify(code, stage === 'connect' ? 'connect' : 'app', `the WebSocket upgrade failed: ${clip(err.message)}`) });
    });
  });
}

/** Why the upgrade deadline passed, from how far it got. */
function upgradeTimeout(stage: 'connect' | 'tls' | 'upgrade', timeoutMs: number): ProbeOutcome {
  if (stage === 'connect') return synTimeout(timeoutMs);
  if (stage === 'tls') return { ...because('TLS_HANDSHAKE_TIMEOUT'), detail: `connected, but the TLS handshake did not finish within ${timeoutMs}ms` };
  return { ...because('WS_HANDSHAKE_TIMEOUT'), detail: `connected, but the WebSocket upgrade got no answer within ${timeoutMs}ms` };
}

function clip(s: string): string {
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}
