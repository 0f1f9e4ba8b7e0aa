/**
 * The one classification table: an error code seen by a prober → status + reason. Probers pass
 * the phase in which the error happened, because the same code means different things before
 * and after a connection exists (a reset during connect is a refusal, after it is not).
 */
import type { ProbeOutcome, Status } from '../types.js';
import { because, reasonsWhere, statusOf, type Reason } from '../reasons.js';

type Phase = 'connect' | 'udp' | 'dns' | 'app';

/** A code's row: its detail, and its reason when that is not the code itself. The status is the reason's (../reasons.ts). */
interface Row {
  detail: string;
  reason?: Reason;
}

const CONNECT: Partial<Record<Reason, Row>> = {
  ECONNREFUSED: { detail: 'actively refused: TCP reset (no listener, or a firewall rejecting with RST)' },
  ECONNRESET: { detail: 'connection reset during the handshake' },
  EHOSTUNREACH: { detail: 'host unreachable (ICMP host/admin unreachable, or no route to host)' },
  ENETUNREACH: { detail: 'network unreachable (ICMP net unreachable, or no route)' },
  EHOSTDOWN: { detail: 'host is down' },
  ENONET: { detail: 'machine is not on the network' },
  EPERM: { detail: 'prohibited by a local firewall rule (the connect was refused before leaving this host)' },
  EACCES: { detail: 'not permitted to reach this address (e.g. a broadcast address)' },
  ETIMEDOUT: { detail: 'no answer to the connection request (SYN unanswered: dropped by a firewall, or no host)' },
  EADDRNOTAVAIL: { detail: 'no local address or port available' },
  EMFILE: { detail: 'out of file descriptors on this host' },
  ENFILE: { detail: 'out of file descriptors on this host' },
  ENOBUFS: { detail: 'out of buffer space on this host' },
  EINVAL: { detail: 'invalid address for this socket' },
  EAFNOSUPPORT: { detail: 'this address family is not available on this host (IPv6 disabled?)' },
  ECONNABORTED: { detail: 'the connection was aborted during the handshake' },
  ENETDOWN: { detail: 'the network interface is down' },
};

const UDP: Partial<Record<Reason, Row>> = {
  ECONNREFUSED: { detail: 'ICMP port unreachable: nothing listens there, or a firewall rejects with ICMP' },
  EHOSTUNREACH: { detail: 'ICMP host/admin unreachable, or no route to host' },
  ENETUNREACH: { detail: 'ICMP net unreachable, or no route' },
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
  ENOTFOUND: { detail: 'NXDOMAIN: the name does not exist', reason: 'NXDOMAIN' },
  ENODATA: { detail: 'the name exists but has no records of this type', reason: 'NODATA' },
  ESERVFAIL: { detail: 'SERVFAIL: the DNS server failed to answer', reason: 'SERVFAIL' },
  EREFUSED: { detail: 'the DNS server refused the query', reason: 'DNS_REFUSED' },
  ECONNREFUSED: { detail: 'the DNS server port is closed (ICMP port unreachable)' },
  ETIMEOUT: { detail: 'the DNS server did not answer before the deadline', reason: 'DNS_TIMEOUT' },
  EBADRESP: { detail: 'the DNS server answered with a malformed response', reason: 'DNS_BAD_RESPONSE' },
  EFORMERR: { detail: 'the DNS server reported a format error' },
  ENOTIMP: { detail: 'the DNS server does not implement this query' },
  EAI_AGAIN: { detail: 'the system resolver could not reach a DNS server (temporary failure)' },
  ECANCELLED: { detail: 'the query was cancelled' },
};

/**
 * Reason of an error no table row covers, per phase: a stable code (README's reasons table), never
 * the raw code of a library or the OS, which stays in the detail.
 */
const FALLBACK_REASON: Record<Phase, string> = { connect: 'CONNECT_FAILED', udp: 'UDP_FAILED', dns: 'DNS_FAILED', app: 'EXCHANGE_FAILED' };

/** Codes of this host running out of something, in any phase. */
const HOST_LIMITS = reasonsWhere((r) => r.hostLimit !== undefined);

/** An HTTP parser's error (llhttp's `HPE_*`, undici's "not HTTP" info error): the peer does not speak HTTP. */
function notHttp(code: string): boolean {
  return code.startsWith('HPE_') || code === 'UND_ERR_INFO';
}

/**
 * Map an error code to an outcome with a stable reason. Unknown codes are `error` with the
 * phase's fallback reason; the code itself is kept in the detail.
 */
export function classify(code: string | undefined, phase: Phase, fallback?: string): ProbeOutcome {
  if (code && notHttp(code)) return { ...because('HTTP_NOT_HTTP'), detail: `the peer did not answer in HTTP (${code})` };
  const table: Readonly<Record<string, Row | undefined>> = phase === 'udp' ? UDP : phase === 'dns' ? DNS : phase === 'connect' ? CONNECT : APP;
  // Out of descriptors or buffers is this host's state in whatever phase it shows: a library that
  // opens a file mid-exchange (undici loads its HTTP parser on first use) gets EMFILE there too,
  // and the engine must see the same code to lower its concurrency and send again (issue 11).
  const row = code === undefined ? undefined : (table[code] ?? (HOST_LIMITS.has(code) ? CONNECT[code as Reason] : undefined));
  if (row) {
    // A code classified here has its reason's own status (the first the registry lists).
    const reason = row.reason ?? (code as Reason);
    return { status: statusOf(reason), reason, detail: row.detail };
  }
  const what = code ? `unexpected error ${code}` : 'an error without a code';
  return { status: 'error', reason: FALLBACK_REASON[phase], detail: fallback ? `${fallback} (${code ?? 'no code'})` : what };
}

// undici's codes are a library's, not netcheck's: reports carry netcheck's reasons instead.
const APP: Record<string, Row> = {
  ECONNRESET: { detail: 'connection reset after it was established (a firewall or proxy injected RST, or the server closed it)' },
  EPIPE: { detail: 'the peer closed the connection while we were sending' },
  UND_ERR_SOCKET: { detail: 'the connection was closed by the peer', reason: 'HTTP_CONNECTION_CLOSED' },
  UND_ERR_CLOSED: { detail: 'the connection was closed by the peer', reason: 'HTTP_CONNECTION_CLOSED' },
  UND_ERR_HEADERS_TIMEOUT: { detail: 'connected, but no HTTP response headers before the deadline', reason: 'HTTP_HEADERS_TIMEOUT' },
  UND_ERR_BODY_TIMEOUT: { detail: 'connected, but the HTTP body stalled', reason: 'HTTP_BODY_DEADLINE' },
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
    return { ...because('TLS_RESET'), detail: 'the connection was reset or closed during the TLS handshake (a filtering proxy or firewall may be rejecting this SNI)' };
  }
  if (code === 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' || /excessive message size/i.test(msg)) {
    return { ...because('TLS_MESSAGE_TOO_LARGE'), detail: 'the peer sent a handshake message larger than TLS clients accept (an absurd certificate chain)' };
  }
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LENGTH_MISMATCH|UNEXPECTED_RECORD|HTTP_REQUEST|UNKNOWN_PROTOCOL|RECORD_LAYER_FAILURE|BAD_RECORD_TYPE|UNEXPECTED_MESSAGE|BAD_PACKET/i.test(code)) {
    return { ...because('TLS_NOT_TLS'), detail: `the peer did not answer with TLS (${code}): something other than a TLS server listens there, or a device answers in its place`, data: { tlsError: code } };
  }
  if (/ALERT/i.test(code)) {
    return { ...because('TLS_ALERT'), detail: `the peer aborted the handshake with an alert (${code})`, data: { tlsError: code } };
  }
  return { ...because('TLS_HANDSHAKE_FAILED'), detail: `TLS handshake failed (${code}): ${msg}`, data: { tlsError: code } };
}

/**
 * The one SYN_TIMEOUT outcome: a connection request got no answer before the deadline (`filtered`:
 * silence where an answer was due). `within` is the deadline in ms, or a sentence of its own.
 */
export function synTimeout(within: number | string, extra: Omit<ProbeOutcome, 'status' | 'reason' | 'detail'> = {}): ProbeOutcome {
  const detail = typeof within === 'number' ? `no answer to the connection request within ${within}ms (SYN dropped by a firewall, or no host)` : within;
  return { ...because('SYN_TIMEOUT'), detail, ...extra };
}
