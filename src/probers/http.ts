/**
 * http: an HTTP GET/HEAD with undici, through a connector of our own so each phase is timed:
 * resolve → connect → tls → first byte → transfer. Any HTTP response proves the path is open;
 * `expectStatus` narrows what counts as ok. Bodies are read up to a cap, then dropped.
 *
 * The phases are contiguous: each runs from the end of the one before (the first from the
 * prober's start) to its own end, and each is a difference of marks rounded alike, so a probe that
 * got its answer took exactly the sum of its phases (issue 16: connect includes setting up the
 * request, transfer runs to the end).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
// A static import: this module is itself loaded only when a run has http probes (the registry
// loads a kind's prober before any deadline starts); importing undici inside the prober spent a
// loaded machine's first probes' deadlines on module loading and reported SYN_TIMEOUT for a
// connect never attempted.
import { Agent } from 'undici';
import { DEFAULTS } from '../constants.js';
import type { Phases, Prober, ProbeOutcome } from '../types.js';
import { hostPort } from '../util/ip.js';
import { absorbErrors, failSocketsOnAbort } from '../util/sockets.js';
import { openTunnel, proxyFor, proxyMarks, proxyRefusal, routeData } from '../net/proxy.js';
import { classify, classifyTlsFailure, errorCode, synTimeout } from '../net/classify.js';
import { ms, resolveTarget } from '../net/target.js';
import { httpScheme, type HttpOptions } from '../kinds/http.js';
import { because } from '../reasons.js';

/** Every result says how it travelled: `route: direct`, or `route: proxy` with the (redacted) proxy. */
export const http: Prober<HttpOptions> = async (spec, ctx) => {
  const o = await httpVia(spec, ctx);
  return { ...o, data: { ...o.data, ...routeData(proxyFor(ctx.proxy, httpScheme(spec), spec.host, spec.port)) } };
};

const httpVia: Prober<HttpOptions> = async (spec, ctx) => {
  const tStart = performance.now();
  /** Milliseconds from the start to `t`, rounded to 0.1 ms: phases are differences of these. */
  const at = (t: number): number => ms(t - tStart);
  const between = (from: number, to: number): number => ms(at(to) - at(from));
  const scheme = httpScheme(spec);
  // Through a proxy: CONNECT for https, absolute-form requests for http (as browsers do).
  const proxy = proxyFor(ctx.proxy, scheme, spec.host, spec.port);
  const forward = proxy && scheme === 'http' ? proxy : undefined;
  let proxyFailure: ProbeOutcome | undefined;
  const { method = 'GET', path = '/', expectStatus, blockStatuses } = spec.options;

  // Through a proxy the proxy resolves the name.
  const target = proxy ? undefined : await resolveTarget(spec, ctx);
  if (target && !target.ok) return target.outcome;
  const address = target?.address ?? spec.host;
  const tResolved = performance.now();
  const phases: Phases = target?.resolveMs === undefined ? {} : { resolveMs: at(tResolved) };
  let stage: 'connect' | 'tls' | 'app' = 'connect';
  const sockets: Socket[] = [];
  let tls: { authorized: boolean; error?: string; protocol?: string | null } | undefined;
  let tReady = 0;
  let tHeadersAt: number | undefined;

  const agent = new Agent({
    connections: 1,
    pipelining: 0,
    connect: (opts, cb) => {
      const onRawError = (err: Error): void => cb(err, null);
      const onConnected = (raw: Socket): void => {
        const tConnected = performance.now();
        // From the end of resolution (or the start): the request's own set-up belongs to connecting.
        phases.connectMs = between(phases.resolveMs === undefined ? tStart : tResolved, tConnected);
        tReady = tConnected;
        if (scheme === 'http') {
          stage = 'app';
          raw.off('error', onRawError);
          cb(null, raw);
          return;
        }
        stage = 'tls';
        const servername = opts.servername || (/^[\d.:]+$/.test(spec.host) ? undefined : spec.host);
        // Reachability only: certificate trust is the tls prober's question, so record it, don't fail on it.
        const s: TLSSocket = absorbErrors(tlsConnect({ socket: raw, ...(servername ? { servername } : {}), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }));
        sockets.push(s);
        const onTlsError = (err: Error): void => cb(err, null);
        s.once('error', onTlsError);
        s.once('secureConnect', () => {
          const tTls = performance.now();
          phases.tlsMs = between(tReady, tTls);
          tReady = tTls;
          tls = { authorized: s.authorized, protocol: s.getProtocol() };
          if (!s.authorized && s.authorizationError) tls.error = String(s.authorizationError);
          stage = 'app';
          s.off('error', onTlsError);
          cb(null, s);
        });
      };
      if (proxy && !forward) {
        openTunnel(proxy, spec.host, spec.port!, ctx.signal, spec.timeoutMs).then((t) => {
          if (!t.ok) {
            proxyFailure = t.outcome;
            cb(Object.assign(new Error(t.outcome.reason), { code: 'NC_PROXY' }), null);
            return;
          }
          sockets.push(absorbErrors(t.socket));
          onConnected(t.socket);
        }, (err: Error) => cb(err, null));
        return;
      }
      const raw = absorbErrors(forward ? netConnect({ host: forward.host, port: forward.port, noDelay: true }) : netConnect({ host: address, port: spec.port!, noDelay: true }));
      sockets.push(raw);
      raw.once('error', onRawError);
      raw.once('connect', () => onConnected(raw));
    },
  });

  const url = `${scheme}://${hostPort(spec.host, spec.port)}${path}`;
  // undici waits for our connector's callback even after the request is aborted, and a connect to a
  // firewall that drops SYNs only gives up after the kernel's ~2 min of retries: at the deadline,
  // fail the sockets so the callback fires and the probe ends on time (seen in the issue-5 lab test).
  const stopFailing = failSocketsOnAbort(ctx.signal, sockets);
  try {
    const res = await agent.request({
      origin: new URL(url).origin,
      path: forward ? url : path,
      method,
      signal: ctx.signal,
      headers: { 'user-agent': 'netcheck', accept: '*/*', ...(forward?.authorization ? { 'proxy-authorization': forward.authorization } : {}) },
      headersTimeout: spec.timeoutMs,
      bodyTimeout: spec.timeoutMs,
    });
    const tHeaders = performance.now();
    tHeadersAt = tHeaders;
    phases.firstByteMs = between(tReady, tHeaders);
    let bytes = 0;
    let truncated = false;
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes >= DEFAULTS.httpMaxBodyBytes) {
          truncated = true;
          break;
        }
      }
    } catch (err) {
      if (!ctx.signal.aborted) throw err;
      return {
        ...because('HTTP_BODY_DEADLINE'),
        detail: `status ${res.statusCode} arrived, but the body was still trickling at the deadline (${bytes} bytes read)`,
        address,
        phases,
        data: { httpStatus: res.statusCode, bodyBytes: bytes, ...(tls ? { tls } : {}) },
      };
    } finally {
      res.body.destroy();
    }
    phases.transferMs = between(tHeaders, performance.now());
    const data = {
      httpStatus: res.statusCode,
      bodyBytes: bytes,
      ...(truncated ? { truncated: true } : {}),
      ...(res.headers.server ? { server: String(res.headers.server) } : {}),
      ...(res.headers.via ? { via: String(res.headers.via) } : {}),
      ...(tls ? { tls } : {}),
    };
    const fromProxy =
      res.statusCode === 407 ||
      // Through a forward proxy a gateway error is the proxy's own answer: the origin was not reached.
      (!!forward && (res.statusCode === 502 || res.statusCode === 503 || res.statusCode === 504)) ||
      ((res.statusCode === 403 || res.statusCode === 451) && proxyMarks(res.headers).length > 0 && /html/i.test(String(res.headers['content-type'] ?? '')));
    if (fromProxy && !expectStatus?.includes(res.statusCode)) {
      // 407 only ever comes from a proxy; a 403/451 HTML page carrying proxy headers is a proxy's block page.
      const o = proxyRefusal(proxy, { statusCode: res.statusCode, headers: res.headers }, `${method} ${url}`);
      return { ...o, address, phases, data: { ...data, ...o.data } };
    }
    if (blockStatuses?.includes(res.statusCode)) {
      // A block page (403 Forbidden, 451 Unavailable For Legal Reasons): the site answered, and refused us.
      return { ...because('HTTP_BLOCKED'), detail: `HTTP ${res.statusCode}: a block page (e.g. a geo-restriction) refused this network`, address, phases, data };
    }
    if (expectStatus && !expectStatus.includes(res.statusCode)) {
      return { ...because('HTTP_UNEXPECTED_STATUS'), detail: `HTTP ${res.statusCode}, expected ${expectStatus.join(' or ')}`, address, phases, data };
    }
    return { ...because('HTTP_RESPONSE'), detail: `HTTP ${res.statusCode}${truncated ? ` (body capped at ${DEFAULTS.httpMaxBodyBytes} bytes)` : ''}`, address, phases, data };
  } catch (err) {
    if (proxyFailure) return { ...proxyFailure, address, phases: { ...phases, ...proxyFailure.phases } };
    if (forward && stage === 'connect') {
      const o = failure(err, stage, ctx.signal.aborted, spec.timeoutMs, address, phases, tls);
      return { ...o, reason: ctx.signal.aborted ? 'PROXY_CONNECT_TIMEOUT' : 'PROXY_CONNECT_FAILED', detail: `cannot connect to the proxy ${forward.display}: ${o.detail}` };
    }
    return failure(err, stage, ctx.signal.aborted, spec.timeoutMs, address, phases, tls);
  } finally {
    stopFailing();
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    agent.destroy().catch(() => undefined);
    // Closing the connection is part of the transfer: the returned outcome shares this object.
    if (phases.transferMs !== undefined && tHeadersAt !== undefined) phases.transferMs = between(tHeadersAt, performance.now());
  }
};

function failure(
  err: unknown,
  stage: 'connect' | 'tls' | 'app',
  aborted: boolean,
  timeoutMs: number,
  address: string,
  phases: Phases,
  tls: unknown,
): ProbeOutcome {
  const base = { address, phases, ...(tls ? { data: { tls } } : {}) };
  if (aborted || errorCode(err) === 'UND_ERR_HEADERS_TIMEOUT') {
    if (stage === 'connect') {
      return synTimeout(`no answer to the connection request within ${timeoutMs}ms`, base);
    }
    if (stage === 'tls') {
      return { ...because('TLS_HANDSHAKE_TIMEOUT'), detail: `connected, but the TLS handshake did not finish within ${timeoutMs}ms`, ...base };
    }
    return { ...because('HTTP_HEADERS_TIMEOUT'), detail: `connected, but no HTTP response within ${timeoutMs}ms`, ...base };
  }
  const code = errorCode(err);
  if (stage === 'connect') return { ...classify(code, 'connect'), ...base };
  if (stage === 'tls') {
    const f = classifyTlsFailure(err);
    return { ...f, ...base, data: { ...base.data, ...f.data } };
  }
  const o = classify(code, 'app', `HTTP exchange failed: ${(err as Error).message}`);
  return { ...o, ...base };
}

