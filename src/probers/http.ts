/**
 * http: an HTTP GET/HEAD (net/http-exchange.ts: each phase timed, resolve → connect → tls → first
 * byte → transfer, adding up to the duration). Any HTTP response proves the path is open;
 * `expectStatus` narrows what counts as ok. Bodies are read up to a cap, then dropped.
 */
import { DEFAULTS } from '../constants.js';
import type { Prober } from '../types.js';
import { hostPort } from '../util/ip.js';
import { proxyFor, proxyMarks, proxyRefusal, routeData } from '../net/proxy.js';
// Static, with undici: this module is loaded only when a run has http probes, before any deadline starts.
import { httpExchange } from '../net/http-exchange.js';
import { httpScheme, type HttpOptions } from '../kinds/http.js';
import { because } from '../reasons.js';

/** Every result says how it travelled: `route: direct`, or `route: proxy` with the (redacted) proxy. */
export const http: Prober<HttpOptions> = async (spec, ctx) => {
  const o = await httpVia(spec, ctx);
  return { ...o, data: { ...o.data, ...routeData(proxyFor(ctx.proxy, httpScheme(spec), spec.host, spec.port)) } };
};

const httpVia: Prober<HttpOptions> = async (spec, ctx) => {
  const tStart = performance.now();
  const scheme = httpScheme(spec);
  // Through a proxy: CONNECT for https, absolute-form requests for http (as browsers do).
  const proxy = proxyFor(ctx.proxy, scheme, spec.host, spec.port);
  const { method = 'GET', path = '/', expectStatus, blockStatuses } = spec.options;
  const url = `${scheme}://${hostPort(spec.host, spec.port)}${path}`;
  const x = await httpExchange(
    spec,
    ctx,
    {
      scheme,
      host: spec.host,
      port: spec.port!,
      path,
      url,
      method,
      headers: { 'user-agent': 'netcheck', accept: '*/*' },
      ...(proxy ? { proxy } : {}),
      maxBytes: DEFAULTS.httpMaxBodyBytes,
      overCap: 'truncate',
      keepBody: false,
    },
    tStart,
  );
  const address = x.address ?? spec.host;
  const { phases, tls } = x;
  if (!x.ok) {
    if (x.stage === 'resolve') return x.outcome;
    const data = { ...x.outcome.data, ...(x.statusCode !== undefined ? { httpStatus: x.statusCode, bodyBytes: x.bodyBytes } : {}), ...(tls ? { tls } : {}) };
    return { ...x.outcome, address, phases, ...(Object.keys(data).length ? { data } : {}) };
  }
  const data = {
    httpStatus: x.statusCode,
    bodyBytes: x.bodyBytes,
    ...(x.truncated ? { truncated: true } : {}),
    ...(x.headers.server ? { server: x.headers.server } : {}),
    ...(x.headers.via ? { via: x.headers.via } : {}),
    ...(tls ? { tls } : {}),
  };
  const forward = proxy && scheme === 'http';
  const fromProxy =
    x.statusCode === 407 ||
    // Through a forward proxy a gateway error is the proxy's own answer: the origin was not reached.
    (forward && (x.statusCode === 502 || x.statusCode === 503 || x.statusCode === 504)) ||
    ((x.statusCode === 403 || x.statusCode === 451) && proxyMarks(x.headers).length > 0 && /html/i.test(x.headers['content-type'] ?? ''));
  if (fromProxy && !expectStatus?.includes(x.statusCode)) {
    // 407 only ever comes from a proxy; a 403/451 HTML page carrying proxy headers is a proxy's block page.
    const o = proxyRefusal(proxy, { statusCode: x.statusCode, headers: x.headers }, `${method} ${url}`);
    return { ...o, address, phases, data: { ...data, ...o.data } };
  }
  if (blockStatuses?.includes(x.statusCode)) {
    // A block page (403 Forbidden, 451 Unavailable For Legal Reasons): the site answered, and refused us.
    return { ...because('HTTP_BLOCKED'), detail: `HTTP ${x.statusCode}: a block page (e.g. a geo-restriction) refused this network`, address, phases, data };
  }
  if (expectStatus && !expectStatus.includes(x.statusCode)) {
    return { ...because('HTTP_UNEXPECTED_STATUS'), detail: `HTTP ${x.statusCode}, expected ${expectStatus.join(' or ')}`, address, phases, data };
  }
  return { ...because('HTTP_RESPONSE'), detail: `HTTP ${x.statusCode}${x.truncated ? ` (body capped at ${DEFAULTS.httpMaxBodyBytes} bytes)` : ''}`, address, phases, data };
};
