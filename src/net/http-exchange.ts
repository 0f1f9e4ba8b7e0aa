/**
 * One HTTP exchange, for every prober that speaks HTTP (the http kind, and the ocsp and crl
 * fetches): an undici client whose connector is ours, so each phase is timed, that goes direct,
 * through a CONNECT tunnel (https, as browsers and OS certificate validators do) or to a forward
 * proxy (absolute-form requests for http), reads the body up to a cap, and turns the deadline or
 * an error into an outcome with the reason of the stage it stopped in.
 *
 * The phases are contiguous: each runs from the end of the one before (the first from the
 * exchange's start) to its own end, and each is a difference of marks rounded alike, so an exchange
 * that got its answer took exactly the sum of its phases (issue 16: connect includes setting up the
 * request, transfer runs to the closing of the connection).
 */
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
// Static: this module is loaded with the probers that use it, before any deadline starts; importing
// undici inside a probe spent a loaded machine's first deadlines on module loading and reported
// SYN_TIMEOUT for connects never attempted.
import { Client } from 'undici';
import type { Phases, ProbeContext, ProbeOutcome, ProbeSpec, ProxyEndpoint } from '../types.js';
import { because } from '../reasons.js';
import { sniName } from '../util/ip.js';
import { absorbErrors, failSocketsOnAbort } from '../util/sockets.js';
import { classify, classifyTlsFailure, errorCode, synTimeout } from './classify.js';
import { dial } from './dial.js';
import { ms, resolveTarget } from './target.js';

/** What to ask, and of whom. */
export interface ExchangeRequest {
  scheme: 'http' | 'https';
  /** The origin's host (a name or an unbracketed address) and port. */
  host: string;
  port: number;
  /** The request target in origin form (`/path?query`), sent when not through a forward proxy. */
  path: string;
  /** The absolute URL, sent as the request target to a forward proxy. */
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The proxy this URL goes through (`proxyFor`): CONNECT for https, forward for http. */
  proxy?: ProxyEndpoint;
  /** The body cap, in bytes. */
  maxBytes: number;
  /**
   * At the cap: `truncate` stops reading and reports the answer (`truncated`), `refuse` fails with
   * RESPONSE_TOO_LARGE, before reading when Content-Length announces more.
   */
  overCap: 'truncate' | 'refuse';
  /** Keep the body (a revocation answer to parse) or only count it (reachability). */
  keepBody: boolean;
}

/** The TLS facts of an https exchange: recorded, never a failure (trust is the tls prober's question). */
export interface ExchangeTls {
  authorized: boolean;
  error?: string;
  protocol?: string | null;
}

/** Facts of every exchange, however far it got. */
export interface ExchangeFacts {
  /** The address connected to, when direct (resolved here). */
  address?: string;
  /** Shared with the caller's outcome: transfer is completed when the connection is closed. */
  phases: Phases;
  tls?: ExchangeTls;
  /** The Via header of a proxy's CONNECT answer. */
  tunnelVia?: string;
}

/** Where an exchange stopped: before an address, a connection, TLS, response headers, or within the body. */
export type ExchangeStage = 'resolve' | 'connect' | 'tls' | 'headers' | 'body';

export type Exchange =
  | (ExchangeFacts & { ok: true; statusCode: number; headers: Record<string, string>; body: Buffer; bodyBytes: number; truncated: boolean })
  | (ExchangeFacts & {
      ok: false;
      stage: ExchangeStage;
      /** Status, reason, detail (and the data of the reason: proxy errors, TLS codes, caps); the caller adds address and phases. */
      outcome: ProbeOutcome;
      /** From the `body` stage on: the answer that arrived. */
      statusCode?: number;
      headers?: Record<string, string>;
      bodyBytes?: number;
    });

/**
 * Run one HTTP exchange for a probe, within `ctx.signal` and `spec.timeoutMs`. Network conditions
 * come back as a failed exchange with an outcome, never thrown.
 */
export async function httpExchange(spec: ProbeSpec, ctx: ProbeContext, req: ExchangeRequest, tStart = performance.now()): Promise<Exchange> {
  /** Milliseconds from the start to `t`, rounded to 0.1 ms: phases are differences of these. */
  const at = (t: number): number => ms(t - tStart);
  const between = (from: number, to: number): number => ms(at(to) - at(from));
  const { proxy, scheme } = req;
  // Forward-proxied plain HTTP goes to the proxy itself; everything else is a stream to the origin.
  const forward = proxy && scheme === 'http' ? proxy : undefined;
  const through = proxy ? ` through ${proxy.display}` : '';
  const facts: ExchangeFacts = { phases: {} };
  const { phases } = facts;

  // Through a proxy the proxy resolves the name.
  let tResolved = tStart;
  if (!proxy) {
    const t = await resolveTarget({ ...spec, host: req.host, port: req.port }, ctx);
    if (!t.ok) return { ...facts, ok: false, stage: 'resolve', outcome: t.outcome };
    facts.address = t.address;
    if (t.resolveMs !== undefined) {
      tResolved = performance.now();
      phases.resolveMs = at(tResolved);
    }
  }

  let stage: 'connect' | 'tls' | 'headers' = 'connect';
  let connectFailure: ProbeOutcome | undefined;
  const sockets: Socket[] = [];
  let tReady = 0;
  const client = new Client(new URL(req.url).origin, {
    pipelining: 0,
    connect: (_opts, cb) => {
      const dialled = forward
        ? dial({ address: forward.host, host: forward.host, port: forward.port, signal: ctx.signal, timeoutMs: spec.timeoutMs })
        : dial({ address: facts.address ?? req.host, host: req.host, port: req.port, ...(proxy ? { proxy } : {}), signal: ctx.signal, timeoutMs: spec.timeoutMs });
      dialled.then(
        (d) => {
          if (!d.ok) {
            connectFailure = forward ? proxyUnreachable(d.outcome, forward, ctx.signal.aborted) : d.outcome;
            if (d.outcome.phases?.connectMs !== undefined) phases.connectMs = ms(d.outcome.phases.connectMs);
            cb(Object.assign(new Error(d.outcome.reason), { code: 'NC_CONNECT_FAILED' }), null);
            return;
          }
          const raw = absorbErrors(d.socket);
          sockets.push(raw);
          if (d.via) facts.tunnelVia = d.via;
          const tConnected = performance.now();
          // From the end of resolution (or the start): the request's own set-up belongs to connecting.
          phases.connectMs = between(tResolved, tConnected);
          tReady = tConnected;
          if (scheme === 'http') {
            stage = 'headers';
            cb(null, raw);
            return;
          }
          stage = 'tls';
          const servername = sniName(req.host);
          // Reachability only (and revocation data is signed in itself): record the certificate's trust, never fail on it.
          const s: TLSSocket = absorbErrors(tlsConnect({ socket: raw, ...(servername ? { servername } : {}), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }));
          sockets.push(s);
          const onTlsError = (err: Error): void => cb(err, null);
          s.once('error', onTlsError);
          s.once('secureConnect', () => {
            const tTls = performance.now();
            phases.tlsMs = between(tReady, tTls);
            tReady = tTls;
            facts.tls = { authorized: s.authorized, protocol: s.getProtocol() };
            if (!s.authorized && s.authorizationError) facts.tls.error = String(s.authorizationError);
            stage = 'headers';
            s.off('error', onTlsError);
            cb(null, s);
          });
        },
        (err: Error) => cb(err, null),
      );
    },
  });

  const headers = { ...req.headers, ...(forward?.authorization ? { 'proxy-authorization': forward.authorization } : {}) };
  // undici waits for our connector's callback even after the request is aborted, and a stalled TCP
  // connect or TLS handshake never calls it by itself: at the deadline, fail the sockets so the
  // callback fires and the probe ends on time (seen in the issue-5 lab test).
  const stopFailing = failSocketsOnAbort(ctx.signal, sockets);
  let tHeaders: number | undefined;
  try {
    let res: Awaited<ReturnType<Client['request']>>;
    try {
      res = await client.request({
        path: forward ? req.url : req.path,
        method: req.method as 'GET',
        headers,
        ...(req.body ? { body: req.body } : {}),
        signal: ctx.signal,
        headersTimeout: spec.timeoutMs,
        bodyTimeout: spec.timeoutMs,
      });
    } catch (err) {
      return { ...facts, ok: false, stage: connectFailure ? 'connect' : stage, outcome: connectFailure ?? beforeAnswer(err, stage, ctx.signal.aborted, spec.timeoutMs, through, forward) };
    }
    tHeaders = performance.now();
    phases.firstByteMs = between(tReady, tHeaders);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : String(v);
    const answer = { statusCode: res.statusCode, headers: h };
    const declared = h['content-length'] !== undefined ? Number(h['content-length']) : undefined;
    if (req.overCap === 'refuse' && declared !== undefined && declared > req.maxBytes) {
      res.body.destroy();
      const outcome = { ...because('RESPONSE_TOO_LARGE'), detail: `the answer announces ${declared} bytes, more than the cap of ${req.maxBytes}; not downloaded`, data: { declaredBytes: declared, maxBytes: req.maxBytes } };
      return { ...facts, ok: false, stage: 'body', outcome, ...answer, bodyBytes: 0 };
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let truncated = false;
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (req.overCap === 'refuse' && bytes > req.maxBytes) {
          const outcome = { ...because('RESPONSE_TOO_LARGE'), detail: `the answer exceeded the cap of ${req.maxBytes} bytes; download stopped`, data: { maxBytes: req.maxBytes } };
          return { ...facts, ok: false, stage: 'body', outcome, ...answer, bodyBytes: bytes };
        }
        if (req.keepBody) chunks.push(chunk as Buffer);
        if (req.overCap === 'truncate' && bytes >= req.maxBytes) {
          truncated = true;
          break;
        }
      }
    } catch (err) {
      const outcome = ctx.signal.aborted
        ? { ...because('HTTP_BODY_DEADLINE'), detail: `HTTP ${res.statusCode} arrived, but the body was still arriving at the deadline (${bytes} bytes read)` }
        : classify(errorCode(err), 'app', `the body broke off: ${(err as Error).message}`);
      return { ...facts, ok: false, stage: 'body', outcome, ...answer, bodyBytes: bytes };
    } finally {
      res.body.destroy();
    }
    phases.transferMs = between(tHeaders, performance.now());
    return { ...facts, ok: true, ...answer, body: Buffer.concat(chunks), bodyBytes: bytes, truncated };
  } finally {
    stopFailing();
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    client.destroy().catch(() => undefined);
    // Closing the connection is part of the transfer: the caller's outcome shares this object.
    if (phases.transferMs !== undefined && tHeaders !== undefined) phases.transferMs = between(tHeaders, performance.now());
  }
}

/** A forward proxy that could not be connected to: the proxy's failure, not the origin's. */
function proxyUnreachable(o: ProbeOutcome, forward: ProxyEndpoint, aborted: boolean): ProbeOutcome {
  const { phases: _phases, ...rest } = o;
  return { ...rest, reason: aborted ? 'PROXY_CONNECT_TIMEOUT' : 'PROXY_CONNECT_FAILED', detail: `cannot connect to the proxy ${forward.display}: ${o.detail}` };
}

/** Why no answer arrived, by the stage the exchange was in when the request failed. */
function beforeAnswer(err: unknown, stage: 'connect' | 'tls' | 'headers', aborted: boolean, timeoutMs: number, through: string, forward: ProxyEndpoint | undefined): ProbeOutcome {
  const code = errorCode(err);
  if (stage === 'connect') {
    // The connector's own failure was not told yet (the abort reached the request first).
    const o = aborted ? synTimeout(timeoutMs) : classify(code, 'connect');
    return forward ? proxyUnreachable(o, forward, aborted) : o;
  }
  if (stage === 'tls') {
    if (aborted) return { ...because('TLS_HANDSHAKE_TIMEOUT'), detail: `connected${through}, but the TLS handshake did not finish within ${timeoutMs}ms` };
    return classifyTlsFailure(err);
  }
  if (aborted || code === 'UND_ERR_HEADERS_TIMEOUT') return { ...because('HTTP_HEADERS_TIMEOUT'), detail: `connected${through}, but no HTTP answer within ${timeoutMs}ms` };
  return classify(code, 'app', `the HTTP exchange failed: ${(err as Error).message}`);
}
