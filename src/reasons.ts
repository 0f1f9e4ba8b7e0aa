/**
 * Every reason code a probe can end with: the status it comes with, and what it means — the
 * stable vocabulary of reports (README, "Reason codes", lists the same codes; a test keeps the two
 * in step). A code that is not here never reaches a report: the engine replaces it with
 * `UNCLASSIFIED` and keeps the original in `data.rawReason` (issue 10: an HTTP parser's
 * `HPE_INVALID_CONSTANT` and `UNKNOWN` leaked).
 *
 * Probers build outcomes of a fixed status through {@link because}, so a reason can never travel
 * with a status that contradicts it; the classification of OS errors (net/classify.ts), the
 * engine's retries and the idle-timer losses read their facts here too.
 */
import { STATUSES, type IdleLoss, type Status } from './types.js';

/** Any status: a reason that keeps the status of the outcome it replaces. */
const ANY = STATUSES;
/** The statuses a failed connection is classified with (net/classify.ts). */
const CLASSIFIED = ['refused', 'unreachable', 'filtered', 'error'] as const satisfies readonly Status[];

/** What a reason code says. */
export interface ReasonInfo {
  /**
   * The status a probe ending with this reason has. A list when it depends on the context: its
   * first entry is the reason's own status (the one OS errors are classified with), the others
   * come from the context (a DNS failure while resolving another kind's target is an `error`; a
   * rewritten reason keeps the status of the result it rewrites). null for the state of one flow
   * of an idle-timer check, never a probe's reason.
   */
  readonly status: Status | readonly Status[] | null;
  readonly meaning: string;
  /** Transient, or this host's shortage: the engine sends the probe again. */
  readonly retry?: boolean;
  /** This host ran out of something (file descriptors, buffers), whatever the phase it shows in. */
  readonly hostLimit?: 'fd' | 'buffers';
  /** An error of this code ending an idle flow means this loss. */
  readonly idleLoss?: IdleLoss;
}

export const REASONS = {
  CONNECTED: { status: 'ok', meaning: 'TCP handshake completed' },
  SYN_TIMEOUT: { status: 'filtered', meaning: 'no answer to the connection request before the deadline (SYN dropped, or no host)' },
  ECONNREFUSED: { status: ['refused', 'error'], meaning: 'actively refused: TCP reset, or ICMP port unreachable for UDP', idleLoss: 'icmp' },
  ECONNRESET: { status: 'refused', meaning: 'connection reset during the handshake, or after it', idleLoss: 'rst' },
  ECONNABORTED: { status: 'refused', meaning: 'connection aborted during the handshake' },
  EHOSTUNREACH: { status: 'unreachable', meaning: 'ICMP host/admin unreachable, or no route to the host', idleLoss: 'icmp' },
  ENETUNREACH: { status: 'unreachable', meaning: 'ICMP net unreachable, or no route', idleLoss: 'icmp' },
  ENETDOWN: { status: 'unreachable', meaning: 'the network interface is down' },
  EHOSTDOWN: { status: 'unreachable', meaning: 'the host is down', idleLoss: 'icmp' },
  ENONET: { status: 'unreachable', meaning: 'this machine is not on the network' },
  EPERM: { status: 'unreachable', meaning: 'prohibited by a firewall rule on this host' },
  EACCES: { status: 'unreachable', meaning: 'not permitted to reach this address (e.g. a broadcast address)' },
  ETIMEDOUT: { status: 'filtered', meaning: 'the kernel gave up on the connection (SYN unanswered)', idleLoss: 'silent-drop' },
  EPIPE: { status: 'refused', meaning: 'the peer closed the connection while netcheck was sending', idleLoss: 'rst' },
  EADDRNOTAVAIL: { status: 'error', meaning: 'no local address or port available on this host', retry: true },
  EMFILE: { status: 'error', meaning: 'this host ran out of file descriptors', retry: true, hostLimit: 'fd' },
  ENFILE: { status: 'error', meaning: 'this host ran out of file descriptors (system-wide)', retry: true, hostLimit: 'fd' },
  ENOBUFS: { status: 'error', meaning: 'this host ran out of buffer space', retry: true, hostLimit: 'buffers' },
  EINVAL: { status: 'error', meaning: 'invalid address for this socket' },
  EAFNOSUPPORT: { status: 'error', meaning: 'this address family is not available on this host' },
  CONNECT_FAILED: { status: 'error', meaning: 'the connection failed with an error netcheck has no finer code for (the OS code is in the detail)' },
  FAMILY_EXCLUDED: { status: 'skipped', meaning: 'an address of the family that -4/-6 left out' },
  NO_IPV6_ROUTE: { status: 'skipped', meaning: 'this host has no IPv6 route: IPv6 cannot be tested here (skipped, not a failure)' },
  UDP_REPLY: { status: 'ok', meaning: 'a reply came back' },
  UDP_UNEXPECTED_REPLY: { status: 'error', meaning: 'a reply came back, but not the one expected' },
  UDP_SILENCE: { status: 'open|filtered', meaning: 'no reply and no ICMP error: open or filtered' },
  UDP_SILENCE_RATE_LIMITED: { status: 'open|filtered', meaning: 'silence while other ports of the host answered with ICMP: a rate-limited ICMP error may be hidden' },
  UDP_FAILED: { status: 'error', meaning: 'the datagram could not be sent or answered, for a reason netcheck has no finer code for' },
  RESOLVED: { status: 'ok', meaning: 'the name resolved (within the addresses the document gives, when it gives some)' },
  DNS_DRIFT: { status: 'error', meaning: 'the name resolves outside the addresses the document gives for it (a DNS filter, or a moved name)' },
  NXDOMAIN: { status: 'error', meaning: 'the name does not exist for the resolver in use' },
  NODATA: { status: 'error', meaning: 'the name exists but has no address of the type asked' },
  SERVFAIL: { status: 'error', meaning: 'the DNS server failed to answer' },
  DNS_REFUSED: { status: ['refused', 'error'], meaning: 'the DNS server refused the query' },
  DNS_TIMEOUT: { status: ['filtered', 'error'], meaning: 'no DNS answer before the deadline' },
  DNS_BAD_RESPONSE: { status: 'error', meaning: 'the DNS server answered with a malformed response' },
  EFORMERR: { status: 'error', meaning: 'the DNS server reported a format error' },
  ENOTIMP: { status: 'error', meaning: 'the DNS server does not implement the query' },
  EAI_AGAIN: { status: 'error', meaning: 'the system resolver could not reach a DNS server (temporary failure)', retry: true },
  ECANCELLED: { status: 'error', meaning: 'the DNS query was cancelled' },
  DNS_FAILED: { status: 'error', meaning: 'name resolution failed with an error netcheck has no finer code for' },
  NO_ADDRESS_IN_FAMILY: { status: 'skipped', meaning: 'the name has no address in the family -4/-6 asked for' },
  HTTP_RESPONSE: { status: 'ok', meaning: 'an HTTP response arrived' },
  HTTP_UNEXPECTED_STATUS: { status: 'error', meaning: 'an HTTP status other than the expected ones' },
  HTTP_BLOCKED: { status: 'refused', meaning: 'a block-page status (e.g. 403/451) the catalog names as a block' },
  HTTP_BLOCK_PAGE: { status: 'refused', meaning: 'a web filter or captive portal answered instead of the server' },
  HTTP_HEADERS_TIMEOUT: { status: 'timeout', meaning: 'connected, but no HTTP response before the deadline' },
  HTTP_BODY_DEADLINE: { status: 'timeout', meaning: 'the response body was still arriving at the deadline' },
  HTTP_NOT_HTTP: { status: 'error', meaning: 'the peer did not answer in HTTP' },
  HTTP_CONNECTION_CLOSED: { status: 'refused', meaning: 'the peer closed the connection before a complete HTTP response' },
  EXCHANGE_FAILED: { status: 'error', meaning: 'the exchange failed after connecting, with an error netcheck has no finer code for' },
  RESPONSE_TOO_LARGE: { status: 'error', meaning: 'the answer exceeded the download cap' },
  BAD_URL: { status: 'error', meaning: 'the target URL is not usable' },
  TLS_OK: { status: 'ok', meaning: 'handshake completed, no interception seen' },
  TLS_NOT_INTERCEPTED: { status: 'ok', meaning: 'handshake completed, no interception seen; other certificate findings recorded, not judged (interceptionOnly)' },
  TLS_CERT_EXPIRING: { status: 'ok', meaning: 'handshake ok, but the certificate expires soon' },
  TLS_INTERCEPTED: { status: 'error', meaning: 'the chain shows TLS interception (unexpected root, locally installed root, inspection product, or an unexpected issuer)' },
  TLS_CHAIN_TOO_LONG: { status: 'error', meaning: 'an absurdly long certificate chain' },
  TLS_CHAIN_BROKEN: { status: 'error', meaning: 'a certificate of the chain is not signed by the next' },
  TLS_CERT_EXPIRED: { status: 'error', meaning: 'the server certificate has expired' },
  TLS_CERT_NOT_YET_VALID: { status: 'error', meaning: 'the server certificate is not valid yet (check the clock)' },
  TLS_HOSTNAME_MISMATCH: { status: 'error', meaning: 'the certificate does not name the host' },
  TLS_NO_CERTIFICATE: { status: 'error', meaning: 'the handshake completed without a server certificate' },
  TLS_HANDSHAKE_TIMEOUT: { status: 'timeout', meaning: 'connected, but the TLS handshake did not finish before the deadline' },
  TLS_RESET: { status: 'refused', meaning: 'reset or closed during the TLS handshake' },
  TLS_MESSAGE_TOO_LARGE: { status: 'error', meaning: 'a handshake message larger than TLS clients accept' },
  TLS_NOT_TLS: { status: 'error', meaning: 'the peer did not answer with TLS' },
  TLS_ALERT: { status: 'error', meaning: 'the peer aborted the handshake with an alert' },
  TLS_HANDSHAKE_FAILED: { status: 'error', meaning: 'the TLS handshake failed (the OpenSSL code is in data.tlsError)' },
  TLS_UNTRUSTED: { status: 'error', meaning: 'a certificate no CA vouches for and not the pinned one' },
  TLS_PIN_MISMATCH: { status: 'error', meaning: 'not the pinned certificate' },
  CA_FILE_UNUSABLE: { status: 'error', meaning: 'the --ca / ca file cannot be read or holds no certificate' },
  OCSP_GOOD: { status: 'ok', meaning: 'a signed OCSP answer: good' },
  OCSP_REVOKED: { status: 'ok', meaning: 'a signed OCSP answer: revoked' },
  OCSP_UNKNOWN: { status: 'ok', meaning: 'a signed OCSP answer: the responder does not know the certificate' },
  OCSP_RESPONDER_ANSWERED: { status: 'ok', meaning: 'the responder answered in OCSP (no certificate given to ask about)' },
  OCSP_HTTP_STATUS: { status: 'error', meaning: 'the responder answered with an HTTP error' },
  OCSP_GARBAGE: { status: 'error', meaning: 'not an OCSP response' },
  OCSP_CERTID_MISMATCH: { status: 'error', meaning: 'a signed answer about another certificate' },
  OCSP_BAD_SIGNATURE: { status: 'error', meaning: 'the OCSP answer is not validly signed' },
  OCSP_NONCE_MISMATCH: { status: 'error', meaning: 'the answer carries another nonce (replayed or cached)' },
  OCSP_NOT_YET_VALID: { status: 'error', meaning: 'thisUpdate is in the future (check the clock)' },
  OCSP_STALE: { status: 'error', meaning: 'the answer is past its nextUpdate' },
  OCSP_MALFORMED_REQUEST: { status: 'error', meaning: 'the responder says the request was malformed' },
  OCSP_INTERNAL_ERROR: { status: 'error', meaning: 'the responder reported an internal error' },
  OCSP_TRY_LATER: { status: 'error', meaning: 'the responder asked to try later' },
  OCSP_SIG_REQUIRED: { status: 'error', meaning: 'the responder requires signed requests' },
  OCSP_UNAUTHORIZED: { status: 'error', meaning: 'the responder is not authoritative for this certificate' },
  CERT_FILE_UNUSABLE: { status: 'error', meaning: 'the certificate or issuer file cannot be read' },
  BAD_CERT_FROM: { status: 'error', meaning: 'certFrom is not HOST[:PORT]' },
  CRL_FRESH: { status: 'ok', meaning: 'a CRL that parses, is fresh and (with an issuer) validly signed' },
  CRL_HTTP_STATUS: { status: 'error', meaning: 'the server answered with an HTTP error instead of a CRL' },
  CRL_GARBAGE: { status: 'error', meaning: 'not a CRL' },
  CRL_WRONG_ISSUER: { status: 'error', meaning: 'a CRL from another issuer' },
  CRL_BAD_SIGNATURE: { status: 'error', meaning: 'the CRL is not validly signed' },
  CRL_NOT_YET_VALID: { status: 'error', meaning: 'thisUpdate is in the future (check the clock)' },
  CRL_EXPIRED: { status: 'error', meaning: 'the CRL is past its nextUpdate' },
  PROXY_AUTH_REQUIRED: { status: 'refused', meaning: 'the proxy requires authentication (407)' },
  PROXY_FORBIDDEN: { status: 'refused', meaning: 'the proxy forbids this destination' },
  PROXY_REFUSED: { status: 'refused', meaning: 'the proxy refused the request' },
  PROXY_UPSTREAM_FAILED: { status: 'error', meaning: 'the proxy could not reach the destination' },
  PROXY_CONNECT_FAILED: { status: CLASSIFIED, meaning: 'the proxy itself cannot be reached' },
  PROXY_CONNECT_TIMEOUT: { status: 'filtered', meaning: 'the proxy did not accept a connection before the deadline' },
  PROXY_TIMEOUT: { status: 'timeout', meaning: 'the proxy did not answer CONNECT before the deadline' },
  PROXY_CLOSED: { status: 'refused', meaning: 'the proxy closed the connection without answering' },
  PROXY_BAD_RESPONSE: { status: 'error', meaning: 'the proxy answered CONNECT with something that is not HTTP' },
  WS_HELD: { status: 'ok', meaning: 'the WebSocket stayed open for the whole hold' },
  WS_DROPPED_RST: { status: 'refused', meaning: 'the WebSocket was reset while held' },
  WS_DROPPED_CLOSE: { status: 'refused', meaning: 'the WebSocket was closed while held' },
  WS_DROPPED_SILENT: { status: 'timeout', meaning: 'the WebSocket went silent while held (a ping got no pong)' },
  WS_HANDSHAKE_TIMEOUT: { status: 'timeout', meaning: 'the WebSocket handshake did not complete before the deadline' },
  WS_UPGRADE_REFUSED: { status: 'error', meaning: 'the server answered the WebSocket upgrade with an HTTP status' },
  BAD_FINGERPRINT: { status: 'error', meaning: 'the certificate pin is not a SHA-256 fingerprint' },
  IDLE_TIMER_OK: { status: 'ok', meaning: 'a flow survived the required idle time' },
  IDLE_LOST_RST: { status: 'refused', meaning: 'an idle flow was lost to a reset' },
  IDLE_LOST_ICMP: { status: 'unreachable', meaning: 'an idle flow was lost to an ICMP error' },
  IDLE_LOST_CLOSED: { status: 'refused', meaning: 'an idle flow was closed' },
  IDLE_LOST_SILENT: { status: 'filtered', meaning: 'an idle flow was forgotten silently' },
  IDLE_NAT_REMAPPED: { status: 'filtered', meaning: 'the NAT mapping of an idle flow changed' },
  IDLE_UNPROVEN: { status: 'open|filtered', meaning: 'the far end is not a reflector: flows were only held' },
  IDLE_NOT_PROVEN: { status: 'open|filtered', meaning: 'no flow could prove the required idle time' },
  NOT_A_REFLECTOR: { status: 'error', meaning: 'the far end does not speak the reflector protocol' },
  REFLECTOR_NO_ANSWER: { status: 'error', meaning: 'the reflector did not answer a request' },
  REFLECTOR_SYNTAX: { status: 'error', meaning: 'the reflector refused a malformed message' },
  REFLECTOR_VERB: { status: 'error', meaning: 'the reflector refused a verb' },
  REFLECTOR_TOKEN: { status: 'error', meaning: 'the reflector refused the flow token' },
  REFLECTOR_AUTH: { status: 'error', meaning: 'the reflector needs the shared secret, and it is missing or wrong' },
  REFLECTOR_GAP: { status: 'error', meaning: 'the gap is longer than the reflector allows' },
  REFLECTOR_FLOWS: { status: 'error', meaning: 'the reflector holds too many flows' },
  REFLECTOR_FLOW: { status: 'error', meaning: 'the reflector does not know the flow' },
  REFLECTOR_DUP: { status: 'error', meaning: 'the flow id is already armed at the reflector (or a media session id is already open with other parameters)' },
  REFLECTOR_ERROR: { status: 'error', meaning: 'the reflector refused without a code' },
  STARTING: { status: null, meaning: 'the flow has not started' },
  WAITING: { status: null, meaning: 'the flow is idle, waiting for its gap to end' },
  WAKE_RECEIVED: { status: null, meaning: 'the reflector spoke after the gap and the answer came back: the flow survived' },
  WAKE_MISSING: { status: null, meaning: "the reflector's send after the gap never arrived: the path forgot the flow" },
  BACK_UNANSWERED: { status: null, meaning: 'the reflector spoke after the gap, but the answer to it got no reply' },
  NAT_REMAPPED: { status: null, meaning: 'the answer after the gap came from another address:port (the NAT mapping expired)' },
  HELD_OPEN: { status: null, meaning: 'the far end is not a reflector: the flow was only held open' },
  FIN: { status: null, meaning: 'the connection was closed (FIN) while idle' },
  STUN_MAPPED: { status: 'ok', meaning: 'the STUN server returned this network\'s public address' },
  STUN_NO_REPLY: { status: 'open|filtered', meaning: 'no STUN answer before the deadline' },
  STUN_BAD_RESPONSE: { status: 'error', meaning: 'a malformed STUN answer' },
  STUN_ERROR_RESPONSE: { status: 'error', meaning: 'the STUN server answered with an error' },
  STUN_NO_MAPPED_ADDRESS: { status: 'error', meaning: 'a STUN answer without a mapped address' },
  STUN_NO_RFC5780: { status: 'error', meaning: 'the STUN server gives no second address (RFC 5780): it cannot tell the NAT type' },
  PMTU_BLACKHOLE: { status: 'timeout', meaning: 'small exchanges pass and large ones stall: a path-MTU black hole (ICMP "fragmentation needed" dropped)' },
  DNS_INTERCEPTED: { status: 'error', meaning: 'the name resolved to the address a DNS interceptor answers every name with: it did not reach the vendor' },
  MEDIA_OK: { status: 'ok', meaning: 'every media threshold held: loss, round trip and jitter' },
  MEDIA_LOSS: { status: 'filtered', meaning: 'more media datagrams were lost in a direction than the threshold allows' },
  MEDIA_RTT: { status: 'timeout', meaning: 'the media round trip is longer than the threshold' },
  MEDIA_JITTER: { status: 'timeout', meaning: 'the media jitter (RFC 3550) is above the threshold in a direction' },
  MEDIA_NO_ECHO: { status: 'open|filtered', meaning: 'the media session opened, but no datagram came back and the reflector counted none: dropped' },
  REFLECTOR_MEDIA: { status: 'error', meaning: 'the reflector does not allow a media stream of this rate, size or length' },
  NAT_NONE: { status: 'ok', meaning: 'no NAT: the far end saw this host\'s own address and port' },
  NAT_ENDPOINT_INDEPENDENT: { status: 'ok', meaning: 'the NAT keeps one public address:port towards every destination (peer-to-peer media can work)' },
  NAT_SYMMETRIC: { status: 'ok', meaning: 'the NAT maps each destination to another public port (a "symmetric" NAT: media needs a relay)' },
  NAT_UNKNOWN: { status: 'open|filtered', meaning: 'the NAT behaviour could not be told (answers missing)' },
  NO_OVERLAP: { status: 'ok', meaning: 'the entry overlaps none of the lists it must stay out of' },
  LIST_OVERLAP: { status: 'error', meaning: 'the entry overlaps a list it must stay out of' },
  NOTHING_TO_COMPARE: { status: 'skipped', meaning: 'the lists to compare with were not given' },
  IP_LIST_SYNTAX: { status: 'error', meaning: 'not an address or CIDR range' },
  NOT_APPLICABLE: { status: 'skipped', meaning: 'not sent: a parameter was not given, or the line is inbound' },
  INTERRUPTED: { status: 'skipped', meaning: 'the run was interrupted before the probe finished' },
  INTERNAL: { status: 'error', meaning: 'a bug in netcheck (please report it)' },
  PROBE_OVERRAN: { status: 'error', meaning: 'a bug in netcheck: the prober did not end after its deadline, and was left behind (please report it)' },
  UNKNOWN_KIND: { status: 'error', meaning: 'no prober for this kind (a bug in netcheck)' },
  UNCLASSIFIED: { status: ANY, meaning: 'an outcome without a stable code (the original is in data.rawReason; please report it)' },
} as const satisfies Record<string, ReasonInfo>;

/** A registered reason code. */
export type Reason = keyof typeof REASONS;

/** The reasons that always come with one status. */
export type FixedReason = { [K in Reason]: (typeof REASONS)[K]['status'] extends Status ? K : never }[Reason];

const KNOWN: ReadonlySet<string> = new Set(Object.keys(REASONS));

/** Is this a code reports may carry? */
export function isStableReason(reason: string): reason is Reason {
  return KNOWN.has(reason);
}

/** What a code says, or undefined for a code that is not registered. */
export function reasonInfo(reason: string): ReasonInfo | undefined {
  return isStableReason(reason) ? REASONS[reason] : undefined;
}

/** The statuses a reason may come with. */
export type StatusOf<R extends Reason> = (typeof REASONS)[R]['status'] extends infer S ? (S extends readonly (infer E)[] ? E : S) : never;

/** The reason's own status: the single one, or the first of its list. */
export function statusOf(reason: Reason): Status {
  const s: ReasonInfo['status'] = REASONS[reason].status;
  if (s === null) throw new Error(`${reason} is a flow's state, not a probe's reason`);
  return typeof s === 'string' ? s : s[0]!;
}

/**
 * The status and reason of an outcome, from the reason: `{ ...because('SYN_TIMEOUT'), detail }`.
 * The one way a prober names a reason: its status comes from here. A reason whose status depends
 * on the context takes it as a second argument, which must be one the registry lists.
 */
export function because<R extends Reason>(reason: R, ...status: R extends FixedReason ? [] : [StatusOf<R>]): { status: Status; reason: R } {
  return { status: (status[0] as Status | undefined) ?? statusOf(reason), reason };
}

/** The codes whose registry entry matches: e.g. every code the engine retries. */
export function reasonsWhere(test: (info: ReasonInfo) => boolean): ReadonlySet<string> {
  return new Set(Object.entries(REASONS as Record<string, ReasonInfo>).filter(([, info]) => test(info)).map(([code]) => code));
}

/** The sections of README's table of reasons: a title and the first code under it, in registry order. */
export const REASON_SECTIONS: readonly (readonly [title: string, first: Reason])[] = [
  ['Connections (tcp, and the connect step of every TCP kind)', 'CONNECTED'],
  ['UDP', 'UDP_REPLY'],
  ['DNS (dns, and name resolution of every kind)', 'RESOLVED'],
  ['HTTP (http, and the HTTP step of ocsp, crl)', 'HTTP_RESPONSE'],
  ['TLS', 'TLS_OK'],
  ['OCSP and CRL', 'OCSP_GOOD'],
  ['Proxies', 'PROXY_AUTH_REQUIRED'],
  ['WebSocket', 'WS_HELD'],
  ['Idle timers (tcp-idle, udp-idle, ws-idle) against a reflector', 'IDLE_TIMER_OK'],
  ['One flow of an idle-timer check (the `flows` of a timer result)', 'STARTING'],
  ['STUN', 'STUN_MAPPED'],
  ['Where a line breaks', 'PMTU_BLACKHOLE'],
  ['Media quality through a reflector (media)', 'MEDIA_OK'],
  ['NAT behaviour (nat)', 'NAT_NONE'],
  ['Address lists (ip-list)', 'NO_OVERLAP'],
  ['The run', 'NOT_APPLICABLE'],
];

/** How README shows a reason's status. */
function statusText(status: ReasonInfo['status']): string {
  if (status === null) return '— (one flow of an idle-timer check)';
  if (typeof status === 'string') return `\`${status}\``;
  if (status === ANY) return "the result's own";
  if (status === CLASSIFIED) return `as classified: ${status.map((x) => `\`${x}\``).join(', ')}`;
  // The reason's own status, then the others a context gives it (a DNS failure resolving another kind's target is an error).
  return `\`${status[0]}\` (${status.slice(1).map((x) => `\`${x}\``).join(', ')} while resolving another kind's target)`;
}

/** README's table of reason codes (scripts/reasons-table.mjs writes it; a test compares). */
export function reasonsMarkdown(): string {
  const first = new Map(REASON_SECTIONS.map(([title, code]) => [code as string, title]));
  const rows = ['| reason | status | meaning |', '|---|---|---|'];
  for (const [code, info] of Object.entries(REASONS as Record<string, ReasonInfo>)) {
    const title = first.get(code);
    if (title) rows.push(`| **${title}** | | |`);
    rows.push(`| \`${code}\` | ${statusText(info.status)} | ${info.meaning} |`);
  }
  return rows.join('\n');
}

/** Codes the engine sends again: transient, or this host's shortage (not the network's answer). */
export const RETRYABLE_REASONS = reasonsWhere((r) => r.retry === true);

/** Codes of this host running out of file descriptors: the engine lowers its concurrency. */
export const FD_REASONS = reasonsWhere((r) => r.hostLimit === 'fd');
