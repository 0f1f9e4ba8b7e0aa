/**
 * URL targets: revocation endpoints are documented as URLs (`http://crl.verisign.com`), so the
 * kinds that fetch one (ocsp, crl) take URLs as a line's targets instead of host + ports.
 */
import { isIP } from 'node:net';

/** Does this target look like a URL (as opposed to a host, address or range)? */
export function isUrlTarget(t: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(t);
}

export interface UrlTarget {
  /** Normalised URL, credentials never allowed. */
  url: string;
  /** Host name or IP literal (without brackets). */
  host: string;
  port: number;
  scheme: 'http' | 'https';
}

const HOST_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/i;

/** Parse a URL target, or say why it is not one. */
export function parseUrlTarget(text: string): UrlTarget | { error: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return { error: `'${text}' is not a valid URL` };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { error: `'${text}': only http:// and https:// URLs can be probed` };
  if (u.username || u.password) return { error: `'${u.protocol}//***@${u.host}…': a URL target must not carry credentials` };
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) === 0 && !HOST_RE.test(host)) return { error: `'${text}': '${host}' is not a valid host name` };
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return { url: u.href, host, port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80, scheme };
}

/** `host[:port]` (IPv6 in brackets); port 443 when absent. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:\s[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const port = m[2] ? Number(m[2]) : 443;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

/**
 * The URL a probe of a URL kind (ocsp, crl) asks: the plan sets it from the line's target (it is
 * no catalog option), so a spec built elsewhere may lack it.
 */
export type UrlOption = { url?: string };

/** The scheme of a probe's URL target (`options.url`): what a proxy would see. */
export function urlScheme(spec: { options: UrlOption }): 'http' | 'https' {
  return (spec.options.url ?? '').startsWith('https:') ? 'https' : 'http';
}
