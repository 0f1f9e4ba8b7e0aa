/**
 * HTTP proxies: settings from `--proxy` and HTTP_PROXY / HTTPS_PROXY / NO_PROXY, which proxy (if
 * any) a destination goes through, CONNECT tunnels with basic auth, and credential redaction.
 *
 * Credentials live only in {@link ProxyEndpoint.authorization}; everything printable uses
 * {@link ProxyEndpoint.display}, which never contains them.
 */
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { UsageError } from '../errors.js';
import { classify, errorCode } from './classify.js';
import type { ProbeOutcome, ProbeSpec, ProxyEndpoint, ProxySettings } from '../types.js';
import { cidrContains, isLoopbackHost, parseCidr } from '../util/ip.js';
import { absorbErrors } from '../util/sockets.js';
import { because } from '../reasons.js';

export type { ProxyEndpoint, ProxySettings } from '../types.js';

/** Parse a proxy URL (`http://[user:pass@]host[:port]`). `what` names the flag or variable in errors. */
export function parseProxyUrl(text: string, what: string): ProxyEndpoint {
  let u: URL;
  try {
    // A bare host:port (as many tools accept in HTTP_PROXY) means http://.
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new UsageError(`${what}: '${redactText(text)}' is not a proxy URL (e.g. http://proxy.example:3128)`);
  }
  if (u.protocol !== 'http:') {
    throw new UsageError(`${what}: only http:// proxies are supported (got ${u.protocol}//…); e.g. http://proxy.example:3128`);
  }
  if (!u.hostname) throw new UsageError(`${what}: the proxy URL has no host (e.g. http://proxy.example:3128)`);
  if ((u.pathname && u.pathname !== '/') || u.search) {
    throw new UsageError(`${what}: a proxy URL is scheme://host:port, without a path (e.g. http://proxy.example:3128)`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port ? Number(u.port) : 80;
  const hasCreds = u.username !== '' || u.password !== '';
  const ep: ProxyEndpoint = {
    host,
    port,
    display: `http://${hasCreds ? '***@' : ''}${isIP(host) === 6 ? `[${host}]` : host}:${port}`,
  };
  if (hasCreds) {
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    ep.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  return ep;
}

/** Replace `user:pass@` (or `user@`) in any URL-looking text with `***@`. */
export function redactText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

/**
 * Settings from the command line and the environment. `--proxy` applies to http and https; the
 * variables follow curl: lower case wins, HTTPS_PROXY for https, HTTP_PROXY for http, ALL_PROXY
 * for both, NO_PROXY for exceptions (also with `--proxy`, as curl does).
 */
export function proxySettings(flag: string | undefined, env: NodeJS.ProcessEnv, compareDirect = false): ProxySettings | undefined {
  const get = (name: string): string | undefined => {
    const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
    return v && v.trim() ? v.trim() : undefined;
  };
  const noProxy = (get('NO_PROXY') ?? '').split(/[\s,]+/).filter(Boolean);
  if (flag !== undefined) {
    const ep = parseProxyUrl(flag, '--proxy');
    return { http: ep, https: ep, noProxy, source: 'flag', ...(compareDirect ? { compareDirect } : {}) };
  }
  const all = get('ALL_PROXY');
  const httpsText = get('HTTPS_PROXY') ?? all;
  const httpText = get('HTTP_PROXY') ?? all;
  const varName = (n: string): string => (env[n.toLowerCase()] ? n.toLowerCase() : n);
  const https = httpsText ? parseProxyUrl(httpsText, get('HTTPS_PROXY') ? varName('HTTPS_PROXY') : varName('ALL_PROXY')) : undefined;
  const http = httpText ? parseProxyUrl(httpText, get('HTTP_PROXY') ? varName('HTTP_PROXY') : varName('ALL_PROXY')) : undefined;
  if (!https && !http) {
    if (compareDirect) throw new UsageError('--compare-direct needs a proxy: give --proxy URL or set HTTPS_PROXY / HTTP_PROXY (e.g. --proxy http://proxy.example:3128 --compare-direct)');
    return undefined;
  }
  return { ...(http ? { http } : {}), ...(https ? { https } : {}), noProxy, source: 'env', ...(compareDirect ? { compareDirect } : {}) };
}

/** Does a NO_PROXY list exempt this destination? */
export function noProxyMatches(noProxy: string[], host: string, port?: number): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  for (const raw of noProxy) {
    let e = raw.trim().toLowerCase();
    if (!e) continue;
    if (e === '*') return true;
    // Optional :port (IPv6 literals must be bracketed to carry one).
    let ePort: number | undefined;
    const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
    if (br) {
      e = br[1]!;
      ePort = br[2] ? Number(br[2]) : undefined;
    } else if (isIP(e) !== 6 && !e.includes('/') && /:\d+$/.test(e)) {
      ePort = Number(e.slice(e.lastIndexOf(':') + 1));
      e = e.slice(0, e.lastIndexOf(':'));
    }
    if (ePort !== undefined && port !== undefined && ePort !== port) continue;
    if (isIP(h) !== 0) {
      if (e.includes('/')) {
        try {
          if (cidrContains(parseCidr(e), h)) return true;
        } catch {
          // Not a valid range: it cannot match, as in curl.
        }
      } else if (isIP(e) !== 0 && ipEquals(e, h)) return true;
      continue;
    }
    const name = e.replace(/^\*?\./, '').replace(/\.$/, '');
    if (h === name || h.endsWith(`.${name}`)) return true;
  }
  return false;
}

function ipEquals(a: string, b: string): boolean {
  try {
    return cidrContains(parseCidr(a), b);
  } catch {
    return false;
  }
}

/** The proxy a destination goes through, or undefined for direct. */
export function proxyFor(settings: ProxySettings | undefined, scheme: 'http' | 'https' | undefined, host: string, port?: number): ProxyEndpoint | undefined {
  if (!settings || !scheme) return undefined;
  const ep = scheme === 'https' ? settings.https : settings.http;
  if (!ep) return undefined;
  if (noProxyMatches(settings.noProxy, host, port)) return undefined;
  // As Go's net/http does: proxy variables are not for loopback (an explicit --proxy still is).
  // A proxy cannot reach this machine's loopback.
  if (settings.source === 'env' && isLoopbackHost(host)) return undefined;
  return ep;
}

/** How a probe travelled, for `data`: `route: 'direct'` or `route: 'proxy'` with the redacted proxy. */
export function routeData(ep: ProxyEndpoint | undefined): { route: 'direct' | 'proxy'; proxy?: string } {
  return ep ? { route: 'proxy', proxy: ep.display } : { route: 'direct' };
}

/** Parsed head of an HTTP response (from a proxy). */
export interface ResponseHead {
  statusCode: number;
  statusText: string;
  headers: Record<string, string>;
}

/** The outcome of asking a proxy for a tunnel. */
export type TunnelResult =
  | { ok: true; socket: Socket; connectMs: number; tunnelMs: number; via?: string }
  | { ok: false; outcome: ProbeOutcome };

/** Largest proxy answer head we read before calling it garbage. */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * Open a CONNECT tunnel to `host:port` through `ep`. Resolves with the raw socket positioned
 * after the proxy's answer, or with an outcome whose reason says what the proxy did: could not
 * be reached (PROXY_CONNECT_FAILED), asked for credentials (PROXY_AUTH_REQUIRED), forbade the
 * destination (PROXY_FORBIDDEN), could not reach it (PROXY_UPSTREAM_FAILED), or went silent.
 */
export function openTunnel(ep: ProxyEndpoint, host: string, port: number, signal: AbortSignal, timeoutMs: number): Promise<TunnelResult> {
  return new Promise<TunnelResult>((resolve) => {
    const t0 = performance.now();
    let connectMs: number | undefined;
    let settled = false;
    const sock = absorbErrors(netConnect({ host: ep.host, port: ep.port, noDelay: true }));
    const base = { data: routeData(ep) };
    const finish = (r: TunnelResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      sock.removeListener('data', onData);
      sock.removeListener('error', onError);
      sock.removeListener('end', onEnd);
      if (!r.ok) sock.destroy();
      resolve(r);
    };
    const onAbort = (): void => {
      finish({
        ok: false,
        outcome:
          connectMs === undefined
            ? { ...because('PROXY_CONNECT_TIMEOUT'), detail: `the proxy ${ep.display} did not accept a connection within ${timeoutMs}ms`, ...base }
            : { ...because('PROXY_TIMEOUT'), detail: `the proxy ${ep.display} accepted the connection but did not answer CONNECT within ${timeoutMs}ms`, ...base },
      });
    };
    const onError = (err: Error): void => {
      const code = errorCode(err);
      if (connectMs === undefined) {
        const o = classify(code, 'connect');
        finish({ ok: false, outcome: { status: o.status, reason: 'PROXY_CONNECT_FAILED', detail: `cannot connect to the proxy ${ep.display}: ${o.detail}`, ...base, data: { ...base.data, proxyError: code ?? 'UNKNOWN' } } });
      } else {
        finish({ ok: false, outcome: { ...because('PROXY_CLOSED'), detail: `the proxy ${ep.display} dropped the connection before answering CONNECT (${code ?? 'error'})`, ...base } });
      }
    };
    const onEnd = (): void => {
      finish({ ok: false, outcome: { ...because('PROXY_CLOSED'), detail: `the proxy ${ep.display} closed the connection without answering CONNECT`, ...base } });
    };
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES) {
          finish({ ok: false, outcome: { ...because('PROXY_BAD_RESPONSE'), detail: `the proxy ${ep.display} sent more than ${MAX_HEAD_BYTES} bytes without ending its answer`, ...base } });
        }
        return;
      }
      const head = parseHead(buf.subarray(0, end).toString('latin1'));
      const rest = buf.subarray(end + 4);
      if (!head) {
        finish({ ok: false, outcome: { ...because('PROXY_BAD_RESPONSE'), detail: `the proxy ${ep.display} did not answer CONNECT in HTTP`, ...base } });
        return;
      }
      if (head.statusCode >= 200 && head.statusCode < 300) {
        // The client speaks first in TLS and HTTP, so a well-behaved proxy sends nothing more here.
        if (rest.length) sock.unshift(rest);
        finish({ ok: true, socket: sock, connectMs: connectMs ?? 0, tunnelMs: performance.now() - t0 - (connectMs ?? 0), ...(head.headers.via ? { via: head.headers.via } : {}) });
        return;
      }
      finish({ ok: false, outcome: proxyRefusal(ep, head, `CONNECT ${host}:${port}`, rest) });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    sock.once('error', onError);
    sock.once('end', onEnd);
    sock.once('connect', () => {
      connectMs = performance.now() - t0;
      const target = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
      const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, 'User-Agent: netcheck', 'Proxy-Connection: keep-alive'];
      if (ep.authorization) lines.push(`Proxy-Authorization: ${ep.authorization}`);
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
      sock.on('data', onData);
    });
  });
}

function parseHead(text: string): ResponseHead | undefined {
  const [statusLine, ...rest] = text.split('\r\n');
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})(?: (.*))?$/.exec(statusLine ?? '');
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const l of rest) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { statusCode: Number(m[1]), statusText: m[2] ?? '', headers };
}

/**
 * A non-2xx answer from a proxy, as an outcome. 407 and 403/451 are refusals in their own right;
 * 5xx and 404 mean the proxy tried and could not reach the destination.
 */
export function proxyRefusal(ep: ProxyEndpoint | undefined, head: { statusCode: number; headers: Record<string, string | string[] | undefined> }, what: string, body?: Buffer): ProbeOutcome {
  const hv = (n: string): string | undefined => {
    const v = head.headers[n];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const by = ep ? `the proxy ${ep.display}` : `a proxy in the path${hv('via') ? ` (Via: ${hv('via')})` : ''}`;
  const data: Record<string, unknown> = {
    ...routeData(ep),
    proxyStatus: head.statusCode,
    ...(hv('via') ? { via: hv('via') } : {}),
    ...(hv('server') ? { proxyServer: hv('server') } : {}),
    ...(body && looksLikeHtml(body, hv('content-type')) ? { blockPage: true } : {}),
  };
  const s = head.statusCode;
  if (s === 407) {
    const sent = !!ep?.authorization;
    return {
      ...because('PROXY_AUTH_REQUIRED'),
      detail: sent
        ? `${by} rejected the credentials given for ${what} (407)`
        : `${by} requires authentication for ${what} (407${hv('proxy-authenticate') ? `, ${hv('proxy-authenticate')!.split(' ')[0]}` : ''}); give credentials, e.g. --proxy http://USER:PASS@host:port`,
      data: { ...data, credentialsSent: sent },
    };
  }
  if (s === 403 || s === 451) {
    return { ...because('PROXY_FORBIDDEN'), detail: `${by} forbids ${what} (${s}${data.blockPage ? ', block page' : ''}): ask for this destination to be allowed through the proxy`, data };
  }
  if (s >= 500 || s === 404) {
    return { ...because('PROXY_UPSTREAM_FAILED'), detail: `${by} could not reach the destination of ${what} (${s})`, data };
  }
  return { ...because('PROXY_REFUSED'), detail: `${by} answered ${what} with ${s}`, data };
}

/** Does a body look like an HTML page (a block page, captive portal or proxy error)? */
export function looksLikeHtml(body: Buffer, contentType?: string): boolean {
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) return true;
  const start = body.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html') || start.startsWith('<head') || start.startsWith('<body');
}

/** Headers that say a proxy produced an HTTP answer. */
export function proxyMarks(headers: Record<string, string | string[] | undefined>): string[] {
  return ['via', 'proxy-authenticate', 'x-squid-error', 'x-proxy-error', 'x-bluecoat-via', 'x-zscaler-request-id', 'x-cache'].filter((h) => headers[h] !== undefined);
}
