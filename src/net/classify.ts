/**
 * The one classification table: an error code seen by a prober → status + reason. Probers pass
 * the phase in which the error happened, because the same code means different things before
 * and after a connection exists (a reset during connect is a refusal, after it is not).
 */
import type { ProbeOutcome, Status } from '../types.js';

type Phase = 'connect' | 'udp' | 'dns' | 'app';

interface Row {
  status: Status;
  detail: string;
}

const CONNECT: Record<string, Row> = {
  ECONNREFUSED: { status: 'refused', detail: 'actively refused: TCP reset (no listener, or a firewall rejecting with RST)' },
  ECONNRESET: { status: 'refused', detail: 'connection reset during the handshake' },
  EHOSTUNREACH: { status: 'unreachable', detail: 'host unreachable (ICMP host/admin unreachable, or no route to host)' },
  ENETUNREACH: { status: 'unreachable', detail: 'network unreachable (ICMP net unreachable, or no route)' },
  EHOSTDOWN: { status: 'unreachable', detail: 'host is down' },
  ENONET: { status: 'unreachable', detail: 'machine is not on the network' },
  EPERM: { status: 'unreachable', detail: 'prohibited by a local firewall rule (the connect was refused before leaving this host)' },
  EACCES: { status: 'unreachable', detail: 'not permitted to reach this address (e.g. a broadcast address)' },
  ETIMEDOUT: { status: 'filtered', detail: 'no answer to the connection request (SYN unanswered: dropped by a firewall, or no host)' },
  EADDRNOTAVAIL: { status: 'error', detail: 'no local address or port available' },
  EMFILE: { status: 'error', detail: 'out of file descriptors on this host' },
  ENFILE: { status: 'error', detail: 'out of file descriptors on this host' },
  ENOBUFS: { status: 'error', detail: 'out of buffer space on this host' },
  EINVAL: { status: 'error', detail: 'invalid address for this socket' },
  EAFNOSUPPORT: { status: 'error', detail: 'this address family is not available on this host (IPv6 disabled?)' },
  ECONNABORTED: { status: 'refused', detail: 'the connection was aborted during the handshake' },
  ENETDOWN: { status: 'unreachable', detail: 'the network interface is down' },
};

const UDP: Record<string, Row> = {
  ECONNREFUSED: { status: 'refused', detail: 'ICMP port unreachable: nothing listens there, or a firewall rejects with ICMP' },
  EHOSTUNREACH: { status: 'unreachable', detail: 'ICMP host/admin unreachable, or no route to host' },
  ENETUNREACH: { status: 'unreachable', detail: 'ICMP net unreachable, or no route' },
  EPERM: CONNECT.EPERM!,
  EACCES: CONNECT.EACCES!,
  EADDRNOTAVAIL: CONNECT.EADDRNOTAVAIL!,
  EMFILE: CONNECT.EMFILE!,
  ENFILE: CONNECT.ENFILE!,
  ENOBUFS: CONNECT.ENOBUFS!,
  EINVAL: CONNECT.EINVAL!,
  EAFNOSUPPORT: CONNECT.EAFNOSUPPORT!,
  ENETDOWN: CONNECT.ENETDOWN!,
};

const DNS: Record<string, Row> = {
  ENOTFOUND: { status: 'error', detail: 'NXDOMAIN: the name does not exist' },
  ENODATA: { status: 'error', detail: 'the name exists but has no records of this type' },
  ESERVFAIL: { status: 'error', detail: 'SERVFAIL: the DNS server failed to answer' },
  EREFUSED: { status: 'refused', detail: 'the DNS server refused the query' },
  ECONNREFUSED: { status: 'refused', detail: 'the DNS server port is closed (ICMP port unreachable)' },
  ETIMEOUT: { status: 'filtered', detail: 'the DNS server did not answer before the deadline' },
  EBADRESP: { status: 'error', detail: 'the DNS server answered with a malformed response' },
  EFORMERR: { status: 'error', detail: 'the DNS server reported a format error' },
  ENOTIMP: { status: 'error', detail: 'the DNS server does not implement this query' },
  ECONNREFUSED_TCP: { status: 'refused', detail: 'the DNS server refused the connection' },
  EAI_AGAIN: { status: 'error', detail: 'the system resolver could not reach a DNS server (temporary failure)' },
  ECANCELLED: { status: 'error', detail: 'the query was cancelled' },
};

/** Stable reason codes for DNS so a report reader can tell NXDOMAIN from SERVFAIL from silence. */
const DNS_REASON: Record<string, string> = {
  ENOTFOUND: 'NXDOMAIN',
  ENODATA: 'NODATA',
  ESERVFAIL: 'SERVFAIL',
  EREFUSED: 'DNS_REFUSED',
  ETIMEOUT: 'DNS_TIMEOUT',
  EBADRESP: 'DNS_BAD_RESPONSE',
};

/**
 * Reason of an error no table row covers, per phase: a stable code (README's reasons table), never
 * the raw code of a library or the OS, which stays in the detail.
 */
const FALLBACK_REASON: Record<Phase, string> = { connect: 'CONNECT_FAILED', udp: 'UDP_FAILED', dns: 'DNS_FAILED', app: 'EXCHANGE_FAILED' };

/** Codes of this host running out of something, in any phase. */
const HOST_LIMITS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS']);

/** An HTTP parser's error (llhttp's `HPE_*`, undici's "not HTTP" info error): the peer does not speak HTTP. */
function notHttp(code: string): boolean {
  return code.startsWith('HPE_') || code === 'UND_ERR_INFO';
}

/**
 * Map an error code to an outcome with a stable reason. Unknown codes are `error` with the
 * phase's fallback reason; the code itself is kept in the detail.
 */
export function classify(code: string | undefined, phase: Phase, fallback?: string): ProbeOutcome {
  if (code && notHttp(code)) return { status: 'error', reason: 'HTTP_NOT_HTTP', detail: `the peer did not answer in HTTP (${code})` };
  const table = phase === 'udp' ? UDP : phase === 'dns' ? DNS : phase === 'connect' ? CONNECT : APP;
  // Out of descriptors or buffers is this host's state in whatever phase it shows: a library that
  // opens a file mid-exchange (undici loads its HTTP parser on first use) gets EMFILE there too,
  // and the engine must see the same code to lower its concurrency and send again (issue 11).
  const row = code === undefined ? undefined : (table[code] ?? (HOST_LIMITS.has(code) ? CONNECT[code] : undefined));
  if (row) return { status: row.status, reason: phase === 'dns' ? (DNS_REASON[code!] ?? code!) : (APP_REASON[code!] ?? code!), detail: row.detail };
  const what = code ? `unexpected error ${code}` : 'an error without a code';
  return { status: 'error', reason: FALLBACK_REASON[phase], detail: fallback ? `${fallback} (${code ?? 'no code'})` : what };
}

const APP: Record<string, Row> = {
  ECONNRESET: { status: 'refused', detail: 'connection reset after it was established (a firewall or proxy injected RST, or the server closed it)' },
  EPIPE: { status: 'refused', detail: 'the peer closed the connection while we were sending' },
  UND_ERR_SOCKET: { status: 'refused', detail: 'the connection was closed by the peer' },
  UND_ERR_CLOSED: { status: 'refused', detail: 'the connection was closed by the peer' },
  UND_ERR_HEADERS_TIMEOUT: { status: 'timeout', detail: 'connected, but no HTTP response headers before the deadline' },
  UND_ERR_BODY_TIMEOUT: { status: 'timeout', detail: 'connected, but the HTTP body stalled' },
};

/** undici's codes are a library's, not netcheck's: reports carry these instead. */
const APP_REASON: Record<string, string> = {
  UND_ERR_SOCKET: 'HTTP_CONNECTION_CLOSED',
  UND_ERR_CLOSED: 'HTTP_CONNECTION_CLOSED',
  UND_ERR_HEADERS_TIMEOUT: 'HTTP_HEADERS_TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'HTTP_BODY_DEADLINE',
};

/** Pull an errno-style code out of anything thrown, looking through `cause` chains. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_CONNECT_TIMEOUT' && code !== 'ABORT_ERR') return code;
    // undici's parser error often carries no code: it is still the peer not speaking HTTP.
    if ((e as { name?: unknown }).name === 'HTTPParserError') return 'HPE_PARSE_ERROR';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why a TLS handshake failed, from the error Node/OpenSSL gave: a stable reason, the OpenSSL code kept in `data.tlsError`. */
export function classifyTlsFailure(err: unknown): Pick<ProbeOutcome, 'status' | 'reason' | 'detail'> & { data?: Record<string, unknown> } {
  const code = errorCode(err) ?? 'no code';
  const msg = (err as Error | undefined)?.message ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return { status: 'refused', reason: 'TLS_RESET', detail: 'the connection was reset or closed during the TLS handshake (a filtering proxy or firewall may be rejecting this SNI)' };
  }
  if (code === 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' || /excessive message size/i.test(msg)) {
    return { status: 'error', reason: 'TLS_MESSAGE_TOO_LARGE', detail: 'the peer sent a handshake message larger than TLS clients accept (an absurd certificate chain)' };
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH|UNEXPECTED_RECORD|HTTP_REQUEST|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|BAD_RECORD_TYPE|UNEXPECTED_MESSAGE|BAD_PACKET/i.test(code)) {
    return { status: 'error', reason: 'TLS_NOT_TLS', detail: `the peer did not answer with TLS (${code}): something other than a TLS server listens there, or a device answers in its place`, data: { tlsError: code } };
  }
  if (/ALERT/i.test(code)) {
    return { status: 'error', reason: 'TLS_ALERT', detail: `the peer aborted the handshake with an alert (${code})`, data: { tlsError: code } };
  }
  return { status: 'error', reason: 'TLS_HANDSHAKE_FAILED', detail: `TLS handshake failed (${code}): ${msg}`, data: { tlsError: code } };
}

/**
 * The one SYN_TIMEOUT outcome: a connection request got no answer before the deadline (`filtered`:
 * silence where an answer was due). `within` is the deadline in ms, or a sentence of its own.
 */
export function synTimeout(within: number | string, extra: Omit<ProbeOutcome, 'status' | 'reason' | 'detail'> = {}): ProbeOutcome {
  const detail = typeof within === 'number' ? `no answer to the connection request within ${within}ms (SYN dropped by a firewall, or no host)` : within;
  return { status: 'filtered', reason: 'SYN_TIMEOUT', detail, ...extra };
}
