/**
 * A capped HTTP exchange for the revocation probers (ocsp, crl): direct, or through a proxy the
 * way an OS certificate validator would use one (absolute-form requests for http://, a CONNECT
 * tunnel for https://). It reports how far it got: level 1 once a TCP connection (or tunnel)
 * exists, level 2 once an HTTP answer that is not a block page or proxy error arrived.
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
// Static: loaded with the ocsp/crl probers, before any deadline starts (see probers/http.ts).
import { Client } from 'undici';
import { classify, errorCode, synTimeout } from '../net/classify.js';
import { ms, resolveTarget } from '../net/target.js';
import type { Phases, ProbeContext, ProbeOutcome, ProbeSpec } from '../types.js';
import { dial } from '../net/dial.js';
import { sniName } from '../util/ip.js';
import { absorbErrors, failSocketsOnAbort } from '../util/sockets.js';
import { looksLikeHtml, proxyFor, proxyMarks, proxyRefusal, routeData, type ProxyEndpoint } from '../net/proxy.js';
import type { UrlTarget } from './url.js';
import { because } from '../reasons.js';

export interface FetchRequest {
  method: 'GET' | 'POST';
  body?: Buffer;
  contentType?: string;
  accept: string;
  maxBytes: number;
}

export type FetchResult =
  | {
      ok: true;
      statusCode: number;
      headers: Record<string, string>;
      body: Buffer;
      phases: Phases;
      address?: string;
      /** `route`, `proxy`, `via`, `httpStatus`: facts every result carries. */
      data: Record<string, unknown>;
    }
  | { ok: false; level: 0 | 1 | 2; outcome: ProbeOutcome };

/** Fetch `u` for a probe. Network conditions become outcomes with the level reached. */
export async function fetchCapped(spec: ProbeSpec, ctx: ProbeContext, u: UrlTarget, req: FetchRequest): Promise<FetchResult> {
  const proxy = proxyFor(ctx.proxy, u.scheme, u.host, u.port);
  const route = routeData(proxy);
  const phases: Phases = {};
  let address: string | undefined;
  if (!proxy) {
    const t = await resolveTarget({ ...spec, host: u.host, port: u.port }, ctx);
    if (!t.ok) return { ok: false, level: 0, outcome: { ...t.outcome, data: { ...t.outcome.data, ...route, level: 0 } } };
    address = t.address;
    if (t.resolveMs !== undefined) phases.resolveMs = ms(t.resolveMs);
  }
  const at = address ? { address } : {};
  // Forward-proxied plain HTTP goes to the proxy itself; everything else is a stream to the origin.
  const forward = proxy && u.scheme === 'http' ? proxy : undefined;
  let connectFailure: ProbeOutcome | undefined;
  let connected = false;
  let tlsDone = false;
  let via: string | undefined;
  const sockets: Socket[] = [];
  const tReady = { t: 0 };

  const client = new Client(new URL(u.url).origin, {
    pipelining: 0,
    connect: (_opts, cb) => {
      const target = forward
        ? dial({ address: forward.host, host: forward.host, port: forward.port, signal: ctx.signal, timeoutMs: spec.timeoutMs })
        : dial({ address: address ?? u.host, host: u.host, port: u.port, ...(proxy ? { proxy } : {}), signal: ctx.signal, timeoutMs: spec.timeoutMs });
      target.then(
        (d) => {
          if (!d.ok) {
            connectFailure = d.outcome;
            cb(Object.assign(new Error(d.outcome.reason), { code: 'NC_CONNECT_FAILED' }), null);
            return;
          }
          sockets.push(absorbErrors(d.socket));
          if (d.via) via = d.via;
          phases.connectMs = ms(d.connectMs + (d.tunnelMs ?? 0));
          connected = true;
          if (u.scheme === 'http') {
            tReady.t = performance.now();
            cb(null, d.socket);
            return;
          }
          const t1 = performance.now();
          // Revocation data is signed in itself; the transport's certificate is not what is checked.
          const s = absorbErrors(tlsConnect({ socket: d.socket, ...(sniName(u.host) ? { servername: u.host } : {}), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }));
          sockets.push(s);
          const onTlsError = (err: Error): void => cb(err, null);
          s.once('error', onTlsError);
          s.once('secureConnect', () => {
            phases.tlsMs = ms(performance.now() - t1);
            tReady.t = performance.now();
            tlsDone = true;
            s.off('error', onTlsError);
            cb(null, s);
          });
        },
        (err) => cb(err as Error, null),
      );
    },
  });

  const headers: Record<string, string> = { 'user-agent': 'netcheck', accept: req.accept };
  if (req.contentType) headers['content-type'] = req.contentType;
  if (forward?.authorization) headers['proxy-authorization'] = forward.authorization;
  const path = forward ? u.url : `${new URL(u.url).pathname}${new URL(u.url).search}`;
  // A stalled TLS handshake would otherwise keep undici waiting for the connector past the deadline.
  const stopFailing = failSocketsOnAbort(ctx.signal, sockets);
  try {
    const res = await client.request({
      path,
      method: req.method,
      headers,
      ...(req.body ? { body: req.body } : {}),
      signal: ctx.signal,
      headersTimeout: spec.timeoutMs,
      bodyTimeout: spec.timeoutMs,
    });
    phases.firstByteMs = ms(performance.now() - tReady.t);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : String(v);
    const data: Record<string, unknown> = { ...route, httpStatus: res.statusCode, ...(h.via ?? via ? { via: h.via ?? via } : {}), ...(h['content-type'] ? { contentType: h['content-type'] } : {}) };
    const declared = h['content-length'] !== undefined ? Number(h['content-length']) : undefined;
    if (declared !== undefined && declared > req.maxBytes) {
      res.body.destroy();
      return { ok: false, level: 2, outcome: { ...because('RESPONSE_TOO_LARGE'), detail: `the answer announces ${declared} bytes, more than the cap of ${req.maxBytes}; not downloaded`, ...at, phases, data: { ...data, level: 2, declaredBytes: declared, maxBytes: req.maxBytes } } };
    }
    const t2 = performance.now();
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes > req.maxBytes) {
          res.body.destroy();
          return { ok: false, level: 2, outcome: { ...because('RESPONSE_TOO_LARGE'), detail: `the answer exceeded the cap of ${req.maxBytes} bytes; download stopped`, ...at, phases, data: { ...data, level: 2, maxBytes: req.maxBytes } } };
        }
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      res.body.destroy();
      if (ctx.signal.aborted) {
        return { ok: false, level: 2, outcome: { ...because('HTTP_BODY_DEADLINE'), detail: `HTTP ${res.statusCode} arrived, but the body was still arriving at the deadline (${bytes} bytes read)`, ...at, phases, data: { ...data, level: 2, bodyBytes: bytes } } };
      }
      const o = classify(errorCode(err), 'app', `the body broke off: ${(err as Error).message}`);
      return { ok: false, level: 2, outcome: { ...o, ...at, phases, data: { ...data, level: 2, bodyBytes: bytes } } };
    }
    phases.transferMs = ms(performance.now() - t2);
    const body = Buffer.concat(chunks);
    data.bodyBytes = body.length;
    const blocked = blockedAnswer(res.statusCode, h, body, proxy);
    if (blocked) return { ok: false, level: 1, outcome: { ...blocked, ...at, phases, data: { ...data, ...blocked.data, level: 1 } } };
    return { ok: true, statusCode: res.statusCode, headers: h, body, phases, ...at, data };
  } catch (err) {
    if (connectFailure) return { ok: false, level: 0, outcome: { ...connectFailure, ...at, phases: { ...phases, ...(connectFailure.phases?.connectMs !== undefined ? { connectMs: ms(connectFailure.phases.connectMs) } : {}) }, data: { ...route, ...connectFailure.data, level: 0 } } };
    if (!connected) {
      if (ctx.signal.aborted) return { ok: false, level: 0, outcome: synTimeout(`no answer to the connection request within ${spec.timeoutMs}ms`, { ...at, phases, data: { ...route, level: 0 } }) };
      return { ok: false, level: 0, outcome: { ...classify(errorCode(err), 'connect'), ...at, phases, data: { ...route, level: 0 } } };
    }
    if (u.scheme === 'https' && !tlsDone && ctx.signal.aborted) {
      return { ok: false, level: 1, outcome: { ...because('TLS_HANDSHAKE_TIMEOUT'), detail: `connected${proxy ? ` through ${proxy.display}` : ''}, but the TLS handshake did not finish within ${spec.timeoutMs}ms`, ...at, phases, data: { ...route, level: 1 } } };
    }
    if (ctx.signal.aborted || errorCode(err) === 'UND_ERR_HEADERS_TIMEOUT') {
      return { ok: false, level: 1, outcome: { ...because('HTTP_HEADERS_TIMEOUT'), detail: `connected${proxy ? ` through ${proxy.display}` : ''}, but no HTTP answer within ${spec.timeoutMs}ms`, ...at, phases, data: { ...route, level: 1 } } };
    }
    const o = classify(errorCode(err), 'app', `the HTTP exchange failed: ${(err as Error).message}`);
    return { ok: false, level: 1, outcome: { ...o, ...at, phases, data: { ...route, level: 1 } } };
  } finally {
    stopFailing();
    for (const s of sockets) s.destroy();
    client.destroy().catch(() => undefined);
  }
}

/**
 * An answer that did not come from the revocation service: proxy refusals (407, 403 with Via…),
 * or an HTML page where binary revocation data was due (block page, captive portal, error page).
 */
export function blockedAnswer(statusCode: number, headers: Record<string, string>, body: Buffer, proxy: ProxyEndpoint | undefined): ProbeOutcome | undefined {
  const marks = proxyMarks(headers);
  // Through a forward proxy a gateway error is the proxy's own answer: the server was not reached.
  if (proxy && (statusCode === 502 || statusCode === 503 || statusCode === 504)) return proxyRefusal(proxy, { statusCode, headers }, 'this request', body);
  if (statusCode === 407 || (statusCode >= 400 && (proxy || marks.length > 0) && (marks.length > 0 || looksLikeHtml(body, headers['content-type'])))) {
    return proxyRefusal(proxy, { statusCode, headers }, 'this request', body);
  }
  if (looksLikeHtml(body, headers['content-type'])) {
    return {
      ...because('HTTP_BLOCK_PAGE'),
      detail: `an HTML page (HTTP ${statusCode}) answered where revocation data was due: a block page, captive portal or error page${marks.length ? ` from a proxy (${marks.join(', ')})` : ''}`,
      data: { blockPage: true, ...(marks.length ? { proxyHeaders: marks } : {}) },
    };
  }
  return undefined;
}
