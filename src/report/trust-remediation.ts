/**
 * Remediation for trust-path findings (issue 4): TLS interception, proxy refusals, block pages and
 * revocation answers are not closed ports, so "allow outbound TCP 443" would be the wrong advice.
 * Pure: a function of probe results.
 */
import type { ProbeResult } from '../types.js';
import { hostPort } from '../util/ip.js';

/** Reasons a proxy gave (or failed with) instead of the destination. */
export const PROXY_REASONS: ReadonlySet<string> = new Set(['PROXY_AUTH_REQUIRED', 'PROXY_FORBIDDEN', 'PROXY_REFUSED', 'PROXY_UPSTREAM_FAILED', 'PROXY_CONNECT_FAILED', 'PROXY_CONNECT_TIMEOUT', 'PROXY_TIMEOUT', 'PROXY_CLOSED', 'PROXY_BAD_RESPONSE']);
/** A TLS handshake that did not complete after the TCP connection did. */
const TLS_HANDSHAKE_REASONS = new Set(['TLS_NOT_TLS', 'TLS_ALERT', 'TLS_RESET', 'TLS_HANDSHAKE_FAILED', 'TLS_MESSAGE_TOO_LARGE', 'TLS_NO_CERTIFICATE']);
/** Answers that came from the service itself but are wrong in content: not a firewall matter. */
export const CONTENT_REASONS = /^(OCSP_|CRL_|TLS_CERT_|TLS_HOSTNAME_MISMATCH|TLS_CHAIN_|RESPONSE_TOO_LARGE)/;

function where(r: ProbeResult): string {
  const url = r.data?.url;
  return typeof url === 'string' ? url : hostPort(r.host, r.port);
}

function list(rs: ProbeResult[]): string {
  const all = [...new Set(rs.map(where))];
  return all.slice(0, 6).join(', ') + (all.length > 6 ? ', …' : '');
}

/** Advice for the trust-path results among `bad`; `handled` are left out of the generic advice. */
export function trustRemediation(bad: ProbeResult[], what: string): { parts: string[]; handled: Set<ProbeResult> } {
  const parts: string[] = [];
  const handled = new Set<ProbeResult>();
  const take = (pred: (r: ProbeResult) => boolean): ProbeResult[] => {
    const rs = bad.filter((r) => !handled.has(r) && pred(r));
    for (const r of rs) handled.add(r);
    return rs;
  };

  const intercepted = take((r) => r.reason === 'TLS_INTERCEPTED');
  if (intercepted.length) {
    const product = intercepted.map((r) => r.data?.inspectionProduct).find((p): p is string => typeof p === 'string');
    parts.push(
      `TLS to ${list(intercepted)} is intercepted${product ? ` by ${product}` : ''} (a certificate not from the expected issuer is presented): exempt these destinations from TLS inspection (WebSockets and certificate pinning break under it).`,
    );
  }
  // The TCP connection was made, the TLS handshake was not: not a closed port (issue 10: the
  // catalogs' 443 lines carry a tls check, and "allow outbound TCP 443" would be the wrong advice).
  const handshake = take((r) => TLS_HANDSHAKE_REASONS.has(r.reason));
  if (handshake.length) {
    parts.push(
      `TLS to ${list(handshake)} did not complete (${[...new Set(handshake.map((r) => r.reason))].join(', ')}): the TCP connection was made, so something other than the expected TLS server answers there, or a device on the path (proxy, IPS, SNI filter) interferes with TLS to ${what}.`,
    );
  }
  const auth = take((r) => r.reason === 'PROXY_AUTH_REQUIRED');
  if (auth.length) {
    parts.push(`The proxy requires authentication for ${list(auth)}: give credentials (--proxy http://USER:PASS@HOST:PORT or HTTPS_PROXY) or ask for ${what} to be allowed without them.`);
  }
  const blocked = take((r) => r.reason === 'PROXY_FORBIDDEN' || r.reason === 'PROXY_REFUSED' || r.reason === 'HTTP_BLOCK_PAGE');
  if (blocked.length) {
    parts.push(`A proxy or web filter blocks ${list(blocked)}: ask for ${what} to be allowed through it.`);
  }
  const proxyDown = take((r) => PROXY_REASONS.has(r.reason));
  if (proxyDown.length) {
    const proxies = [...new Set(proxyDown.map((r) => r.data?.proxy).filter((p): p is string => typeof p === 'string'))];
    parts.push(`The proxy${proxies.length ? ` ${proxies.join(', ')}` : ''} did not carry ${list(proxyDown)} (${[...new Set(proxyDown.map((r) => r.reason))].join(', ')}): check the proxy setting and that the proxy can reach ${what}.`);
  }
  const content = take((r) => CONTENT_REASONS.test(r.reason));
  if (content.length) {
    parts.push(`${list(content)} answered, but ${[...new Set(content.map((r) => r.detail ?? r.reason))].slice(0, 3).join('; ')}: the path is open; this is for the service's owner (or this machine's clock), not the firewall.`);
  }
  return { parts, handled };
}
