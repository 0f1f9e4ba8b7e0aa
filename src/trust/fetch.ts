/**
 * A capped HTTP exchange for the revocation probers (ocsp, crl): direct, or through a proxy the
 * way an OS certificate validator would use one (absolute-form requests for http://, a CONNECT
 * tunnel for https://). It reports how far it got: level 1 once a TCP connection (or tunnel)
 * exists, level 2 once an HTTP answer that is not a block page or proxy error arrived.
 */
// Static, with undici: loaded with the ocsp/crl probers, before any deadline starts.
import { httpExchange } from '../net/http-exchange.js';
import type { Phases, ProbeContext, ProbeOutcome, ProbeSpec } from '../types.js';
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
  const parsed = new URL(u.url);
  const headers: Record<string, string> = { 'user-agent': 'netcheck', accept: req.accept };
  if (req.contentType) headers['content-type'] = req.contentType;
  const x = await httpExchange(spec, ctx, {
    scheme: u.scheme,
    host: u.host,
    port: u.port,
    path: `${parsed.pathname}${parsed.search}`,
    url: u.url,
    method: req.method,
    headers,
    ...(req.body ? { body: req.body } : {}),
    ...(proxy ? { proxy } : {}),
    maxBytes: req.maxBytes,
    overCap: 'refuse',
    keepBody: true,
  });
  const at = x.address ? { address: x.address } : {};
  const { phases } = x;
  const via = x.headers?.via ?? x.tunnelVia;
  const answer = (h: Record<string, string>, statusCode: number): Record<string, unknown> => ({ ...route, httpStatus: statusCode, ...(via ? { via } : {}), ...(h['content-type'] ? { contentType: h['content-type'] } : {}) });
  if (!x.ok) {
    if (x.stage === 'resolve') return { ok: false, level: 0, outcome: { ...x.outcome, data: { ...x.outcome.data, ...route, level: 0 } } };
    if (x.stage === 'body') {
      const data = { ...answer(x.headers!, x.statusCode!), level: 2, ...(x.outcome.reason === 'RESPONSE_TOO_LARGE' ? {} : { bodyBytes: x.bodyBytes }), ...x.outcome.data };
      return { ok: false, level: 2, outcome: { ...x.outcome, ...at, phases, data } };
    }
    const level = x.stage === 'connect' ? 0 : 1;
    return { ok: false, level, outcome: { ...x.outcome, ...at, phases, data: { ...route, ...x.outcome.data, level } } };
  }
  const data = { ...answer(x.headers, x.statusCode), bodyBytes: x.body.length };
  const blocked = blockedAnswer(x.statusCode, x.headers, x.body, proxy);
  if (blocked) return { ok: false, level: 1, outcome: { ...blocked, ...at, phases, data: { ...data, ...blocked.data, level: 1 } } };
  return { ok: true, statusCode: x.statusCode, headers: x.headers, body: x.body, phases, ...at, data };
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
