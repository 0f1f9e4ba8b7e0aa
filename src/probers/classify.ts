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
};

const UDP: Record<string, Row> = {
  ECONNREFUSED: { status: 'refused', detail: 'ICMP port unreachable: nothing listens there, or a firewall rejects with ICMP' },
  EHOSTUNREACH: { status: 'unreachable', detail: 'ICMP host/admin unreachable, or no route to host' },
  ENETUNREACH: { status: 'unreachable', detail: 'ICMP net unreachable, or no route' },
  EPERM: CONNECT.EPERM!,
  EACCES: CONNECT.EACCES!,
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

/** Map an error code to an outcome. Unknown codes are `error` with the code kept as reason. */
export function classify(code: string | undefined, phase: Phase, fallback?: string): ProbeOutcome {
  const c = code ?? 'UNKNOWN';
  const table = phase === 'udp' ? UDP : phase === 'dns' ? DNS : phase === 'connect' ? CONNECT : APP;
  const row = table[c];
  const reason = phase === 'dns' ? DNS_REASON[c] ?? c : c;
  if (row) return { status: row.status, reason, detail: row.detail };
  return { status: 'error', reason, detail: fallback ?? `unexpected error ${c}` };
}

const APP: Record<string, Row> = {
  ECONNRESET: { status: 'refused', detail: 'connection reset after it was established (a firewall or proxy injected RST, or the server closed it)' },
  EPIPE: { status: 'refused', detail: 'the peer closed the connection while we were sending' },
  UND_ERR_SOCKET: { status: 'refused', detail: 'the connection was closed by the peer' },
  UND_ERR_HEADERS_TIMEOUT: { status: 'timeout', detail: 'connected, but no HTTP response headers before the deadline' },
  UND_ERR_BODY_TIMEOUT: { status: 'timeout', detail: 'connected, but the HTTP body stalled' },
  HPE_INVALID_CONSTANT: { status: 'error', detail: 'the peer did not speak HTTP' },
  HPE_INVALID_STATUS: { status: 'error', detail: 'the peer did not speak HTTP' },
  UND_ERR_INFO: { status: 'error', detail: 'the peer answered with something that is not HTTP' },
};

/** Pull an errno-style code out of anything thrown, looking through `cause` chains. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_CONNECT_TIMEOUT' && code !== 'ABORT_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
