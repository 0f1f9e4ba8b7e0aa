/**
 * `netcheck reflect`: the cooperating far end that idle-timer checks need. A firewall that has
 * forgotten an idle flow shows nothing until the far end speaks on it after the gap, so the
 * reflector, asked by a client, speaks first after N seconds of silence.
 *
 * It serves TCP echo, UDP echo and a WebSocket endpoint (ws, and wss with a given or self-signed
 * certificate), each also speaking the NCR1 control protocol (./protocol.ts, docs/reflector.md).
 *
 * Safety, because a reflector on the internet is an attack surface:
 * - no reply is larger than the request it answers; a flow's ARMED and WAKE together never exceed
 *   the ARM request's size (no amplification, even from a spoofed UDP source);
 * - server-initiated sends happen only on flows armed with a token the reflector issued to that
 *   very source address (a spoofed source never sees its token), and, with a shared secret, only
 *   when the ARM carries a valid HMAC;
 * - per-source rate limits on messages and echo bytes, caps on armed flows (global, per source),
 *   on connections per source, and on the gap a client may ask for;
 * - it binds to 127.0.0.1 unless told otherwise.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, isIP, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { atDeadline, nowMs } from '../util/deadline.js';
import { formatPorts } from '../util/ip.js';
import { decodeMediaPacket, isMediaPacket } from '../media/packet.js';
import { selfSignedCert, fingerprintOf } from './cert.js';
import { MediaSessions } from './media.js';
import {
  MAX_MESSAGE_BYTES,
  REFLECTOR_DEFAULTS,
  armMac,
  encode,
  formatSeen,
  isControl,
  issueToken,
  mediaMac,
  newTokenKey,
  parse,
  safeEqual,
  validFlowId,
  validSessionId,
  verifyToken,
  type Message,
  type ReflectorErrorCode,
} from './protocol.js';

export interface ReflectorOptions {
  /** Bind address (default 127.0.0.1). */
  listen?: string;
  tcpPorts?: number[];
  udpPorts?: number[];
  wsPorts?: number[];
  wssPorts?: number[];
  /** PEM certificate and key for wss; absent → a self-signed one is generated at start. */
  tls?: { cert: string; key: string };
  /** Shared secret: ARM must carry `mac=HMAC(secret, …)` (see docs/reflector.md). */
  secret?: string;
  maxFlows?: number;
  maxFlowsPerSource?: number;
  maxConnectionsPerSource?: number;
  maxGapMs?: number;
  ratePerSecond?: number;
  rateBurst?: number;
  bytesPerSecond?: number;
  retainAfterWakeMs?: number;
  tokenMaxAgeMs?: number;
  /** Media sessions (`netcheck media`): highest packet rate and longest session a client may ask for. */
  mediaMaxPps?: number;
  mediaMaxMs?: number;
  mediaBytesPerSecondPerSource?: number;
  mediaSessionsPerSource?: number;
  /** Called for notable events (refusals, rate limiting), one line each, for logs. */
  log?: (line: string) => void;
}

/** Counters, for logs, tests and the benchmark. */
export interface ReflectorStats {
  /** Flows armed and not yet forgotten. */
  flows: number;
  connections: number;
  armed: number;
  wakesSent: number;
  echoed: number;
  rateLimited: number;
  /** Requests refused, by {@link ReflectorErrorCode}. */
  refused: Partial<Record<ReflectorErrorCode, number>>;
  /** Replies not sent because they would have been larger than their request. */
  suppressed: number;
  /** Latest a send after a gap left, past its deadline (ms): the reflector's own timer accuracy. */
  wakeLateMaxMs: number;
  /** Media sessions opened, and media datagrams echoed (also counted in `echoed`). */
  mediaSessions: number;
  mediaEchoed: number;
}

export interface Reflector {
  listen: string;
  tcp: number[];
  udp: number[];
  ws: number[];
  wss: number[];
  /** SHA-256 fingerprint of the wss certificate (`AB:CD:…`), when wss is served. */
  fingerprint?: string;
  selfSigned: boolean;
  secret: boolean;
  /** The startup line: what it listens on, with which limits. */
  describe(): string;
  stats(): ReflectorStats;
  close(): Promise<void>;
}

type Transport = 'tcp' | 'udp' | 'ws';

/** Where a reply goes: one connection, or one UDP source. */
interface Peer {
  transport: Transport;
  ip: string;
  seen: string;
  /** TCP lines end with `\n`. */
  newline: boolean;
  send(buf: Buffer): void;
  /** Flows armed on this connection (TCP/WS), forgotten when it closes. Created lazily. */
  flows?: Flow[];
  /** UDP only: send from another of the reflector's UDP ports (NATF); false when it serves no such port. */
  sendFrom?(port: number, buf: Buffer): boolean;
  /** UDP only: the reflector port this datagram arrived on. */
  localPort?: number;
}

/**
 * An armed flow. Kept small: a reflector may hold thousands (the benchmark's budget is 6.5 KiB per
 * idle TCP flow, socket included), so no closure or timer per flow: one deadline queue serves all.
 */
interface Flow {
  key: string;
  id: string;
  ip: string;
  peer: Peer;
  /** Bytes the reflector may still send for this flow (the ARM request's size). */
  budget: number;
  woke: boolean;
  /** When the gap ends (then: when the flow is forgotten), on the monotonic clock. */
  due: number;
}

/**
 * Deadlines of every flow in one binary heap under one timer: less memory than a Timeout per flow,
 * and fired against absolute times (util/deadline.ts). Stale entries are skipped when popped.
 */
class DeadlineQueue {
  private readonly heap: { due: number; flow: Flow }[] = [];
  private cancelTimer: (() => void) | undefined;
  private armedFor = Infinity;
  constructor(private readonly fire: (flow: Flow) => void) {}
  push(flow: Flow): void {
    const h = this.heap;
    h.push({ due: flow.due, flow });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= h[i]!.due) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
    if (flow.due < this.armedFor) this.arm();
  }
  private pop(): { due: number; flow: Flow } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.due < h[m]!.due) m = l;
        if (r < h.length && h[r]!.due < h[m]!.due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
  private arm(): void {
    this.cancelTimer?.();
    const next = this.heap[0];
    if (!next) {
      this.cancelTimer = undefined;
      this.armedFor = Infinity;
      return;
    }
    this.armedFor = next.due;
    this.cancelTimer = atDeadline(next.due, () => {
      this.cancelTimer = undefined;
      this.armedFor = Infinity;
      const now = nowMs();
      while (this.heap.length && this.heap[0]!.due <= now) {
        const e = this.pop()!;
        // An entry whose flow was rescheduled or forgotten since is stale.
        if (e.flow.due === e.due) this.fire(e.flow);
      }
      this.arm();
    });
  }
  clear(): void {
    this.heap.length = 0;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.armedFor = Infinity;
  }
}

/** A copy of a string that does not keep the message it was sliced from alive. */
function own(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

const EMPTY = Buffer.alloc(0);

/** Token bucket per source address. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}
  take(ip: string, n = 1): boolean {
    const t = nowMs();
    let b = this.buckets.get(ip);
    if (!b) {
      // Bound the table: under a flood of spoofed sources, forget everyone rather than grow.
      if (this.buckets.size >= 100_000) this.buckets.clear();
      b = { tokens: this.burst, at: t };
      this.buckets.set(ip, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }
  sweep(): void {
    const t = nowMs();
    for (const [ip, b] of this.buckets) if (t - b.at > 60_000) this.buckets.delete(ip);
  }
}

function stripMapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

interface TcpHooks {
  control(peer: Peer, line: Buffer): void;
  /** Rate limits: one message, and `n` echo bytes (0 for control). */
  take(ip: string, n: number): boolean;
  onRateLimited(): void;
  onEcho(): void;
  refuseLong(peer: Peer, bytes: number): void;
  onClose(peer: TcpPeer, sock: Socket): void;
}

/**
 * One TCP connection: echo, or (when it starts with `NCR1 `) newline-delimited control messages.
 * A class rather than closures: its methods are shared by every connection, which matters when a
 * reflector holds thousands of idle flows.
 */
class TcpPeer implements Peer {
  readonly transport = 'tcp' as const;
  readonly newline = true;
  readonly seen: string;
  flows?: Flow[];
  private mode: 0 | 1 | 2 = 0; // unknown, echo, control
  private pending: Buffer = EMPTY;
  constructor(
    private readonly s: Socket,
    readonly ip: string,
    private readonly hooks: TcpHooks,
  ) {
    this.seen = formatSeen(s.remoteAddress ?? '?', s.remotePort ?? 0);
    s.on('data', this.onData);
    s.on('error', noop);
    s.once('close', this.onClose);
  }
  send(b: Buffer): void {
    if (!this.s.destroyed) this.s.write(b);
  }
  private readonly onClose = (): void => this.hooks.onClose(this, this.s);
  private readonly onData = (chunk: Buffer): void => {
    if (this.mode === 1) return this.echo(chunk);
    let pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.mode === 0) {
      const head = pending.subarray(0, 5);
      if (head.length < 5 && CONTROL_PREFIX.subarray(0, head.length).equals(head)) {
        this.pending = Buffer.from(pending);
        return;
      }
      this.mode = isControl(pending) ? 2 : 1;
      if (this.mode === 1) {
        this.pending = EMPTY;
        return this.echo(pending);
      }
    }
    for (;;) {
      const nl = pending.indexOf(0x0a);
      if (nl < 0) break;
      const line = Buffer.from(pending.subarray(0, nl + 1));
      pending = pending.subarray(nl + 1);
      if (!this.hooks.take(this.ip, 0)) {
        this.hooks.onRateLimited();
        continue;
      }
      this.hooks.control(this, line);
      if (this.s.destroyed) return;
    }
    if (pending.length > MAX_MESSAGE_BYTES) {
      this.hooks.refuseLong(this, pending.length);
      this.s.destroy();
      return;
    }
    // Copy what is left (usually nothing): a slice would keep the whole read chunk alive.
    this.pending = pending.length ? Buffer.from(pending) : EMPTY;
  };
  private echo(b: Buffer): void {
    if (!this.hooks.take(this.ip, b.length)) {
      this.hooks.onRateLimited();
      return;
    }
    this.hooks.onEcho();
    this.s.write(b);
  }
}

const CONTROL_PREFIX = Buffer.from('NCR1 ');
function noop(): void {
  /* a client resetting its flow is what idle checks do */
}

/** Start a reflector. Resolves once every listener is bound. */
export async function startReflector(opts: ReflectorOptions = {}): Promise<Reflector> {
  const D = REFLECTOR_DEFAULTS;
  const listen = opts.listen ?? D.listen;
  const o = {
    maxFlows: opts.maxFlows ?? D.maxFlows,
    maxFlowsPerSource: opts.maxFlowsPerSource ?? D.maxFlowsPerSource,
    maxConnectionsPerSource: opts.maxConnectionsPerSource ?? D.maxConnectionsPerSource,
    maxGapMs: opts.maxGapMs ?? D.maxGapMs,
    retainAfterWakeMs: opts.retainAfterWakeMs ?? D.retainAfterWakeMs,
    tokenMaxAgeMs: opts.tokenMaxAgeMs ?? D.tokenMaxAgeMs,
  };
  const log = opts.log ?? (() => undefined);
  const messages = new RateLimiter(opts.ratePerSecond ?? D.ratePerSecond, opts.rateBurst ?? D.rateBurst);
  const bytes = new RateLimiter(opts.bytesPerSecond ?? D.bytesPerSecond, opts.bytesPerSecond ?? D.bytesPerSecond);
  const tokenKey = newTokenKey();
  const flows = new Map<string, Flow>();
  const flowsPerIp = new Map<string, number>();
  const connsPerIp = new Map<string, number>();
  const stats: ReflectorStats = { flows: 0, connections: 0, armed: 0, wakesSent: 0, echoed: 0, rateLimited: 0, refused: {}, suppressed: 0, wakeLateMaxMs: 0, mediaSessions: 0, mediaEchoed: 0 };
  const media = new MediaSessions({
    maxPps: opts.mediaMaxPps ?? D.mediaMaxPps,
    maxMs: opts.mediaMaxMs ?? D.mediaMaxMs,
    bytesPerSecondPerSource: opts.mediaBytesPerSecondPerSource ?? D.mediaBytesPerSecondPerSource,
    sessionsPerSource: opts.mediaSessionsPerSource ?? D.mediaSessionsPerSource,
    maxSessions: D.mediaMaxSessions,
    retainMs: D.mediaRetainMs,
  });
  /** UDP sockets by the port they serve (NATF answers from another one). */
  const udpByPort = new Map<number, UdpSocket>();
  const closers: (() => Promise<void>)[] = [];
  const liveSockets = new Set<Socket>();
  const sweeper = setInterval(() => {
    messages.sweep();
    bytes.sweep();
    media.sweep();
  }, 30_000);
  sweeper.unref();

  /** Send `reply` only if it is no larger than the request it answers. */
  const answer = (peer: Peer, reply: Buffer, requestBytes: number): boolean => {
    if (reply.length > requestBytes) {
      stats.suppressed++;
      return false;
    }
    peer.send(reply);
    return true;
  };
  const refuse = (peer: Peer, code: ReflectorErrorCode, requestBytes: number): void => {
    stats.refused[code] = (stats.refused[code] ?? 0) + 1;
    log(`refused ${code} from ${peer.seen} (${peer.transport})`);
    answer(peer, encode('ERR', { code }, 0, peer.newline), requestBytes);
  };

  const forget = (f: Flow): void => {
    if (flows.get(f.key) !== f) return;
    f.due = NaN; // its queue entry is now stale
    flows.delete(f.key);
    const list = f.peer.flows;
    if (list) {
      const i = list.indexOf(f);
      if (i >= 0) list.splice(i, 1);
    }
    const n = (flowsPerIp.get(f.ip) ?? 1) - 1;
    if (n <= 0) flowsPerIp.delete(f.ip);
    else flowsPerIp.set(f.ip, n);
    stats.flows = flows.size;
  };

  const control = (peer: Peer, buf: Buffer): void => {
    const size = buf.length;
    const m = parse(buf);
    if ('error' in m) return refuse(peer, 'syntax', size);
    const f = m.fields;
    switch (m.verb) {
      case 'HELLO': {
        const t = issueToken(tokenKey, peer.transport, peer.seen, Date.now());
        answer(peer, encode('TOKEN', { t, seen: peer.seen }, 0, peer.newline), size);
        return;
      }
      case 'ARM':
        return arm(peer, m, size);
      case 'MEDIA':
      case 'MSTAT':
      case 'NATF':
        // Datagram-only exchanges: a media stream and a NAT filtering test only mean something on UDP.
        if (peer.transport !== 'udp') return refuse(peer, 'verb', size);
        return m.verb === 'MEDIA' ? openMedia(peer, m, size) : m.verb === 'MSTAT' ? mediaStats(peer, m, size) : natFilter(peer, m, size);
      case 'BACK': {
        const flow = f.t && f.id ? flows.get(`${f.t}|${f.id}`) : undefined;
        if (!flow) return refuse(peer, 'flow', size);
        answer(peer, encode('BACKOK', { id: flow.id, seen: peer.seen, was: flow.peer.seen }, 0, peer.newline), size);
        return;
      }
      default:
        return refuse(peer, 'verb', size);
    }
  };

  const arm = (peer: Peer, m: Message, size: number): void => {
    const { t, id, gap, mac } = m.fields;
    if (!verifyToken(tokenKey, t, peer.transport, peer.seen, Date.now(), o.tokenMaxAgeMs)) return refuse(peer, 'token', size);
    if (!validFlowId(id)) return refuse(peer, 'syntax', size);
    const gapMs = gap !== undefined && /^\d{1,10}$/.test(gap) ? Number(gap) : NaN;
    if (!(gapMs >= 0 && gapMs <= o.maxGapMs)) return refuse(peer, 'gap', size);
    if (opts.secret !== undefined && !(mac && safeEqual(mac, armMac(opts.secret, t!, id, gapMs)))) return refuse(peer, 'auth', size);
    const key = `${t}|${id}`;
    if (flows.has(key)) return refuse(peer, 'dup', size);
    if (flows.size >= o.maxFlows || (flowsPerIp.get(peer.ip) ?? 0) >= o.maxFlowsPerSource) return refuse(peer, 'flows', size);
    // The gap is measured against an absolute deadline from the ARM's arrival (util/deadline.ts).
    const flow: Flow = { key: own(key), id: own(id), ip: peer.ip, peer, budget: size, woke: false, due: nowMs() + gapMs };
    const armed = encode('ARMED', { id, seen: peer.seen }, 0, peer.newline);
    if (!answer(peer, armed, flow.budget)) return;
    flow.budget -= armed.length;
    flows.set(flow.key, flow);
    flowsPerIp.set(peer.ip, (flowsPerIp.get(peer.ip) ?? 0) + 1);
    if (peer.transport !== 'udp') (peer.flows ??= []).push(flow);
    stats.flows = flows.size;
    stats.armed++;
    queue.push(flow);
  };

  /** MEDIA t id pps dur size [mac]: open a media session bound to this source address:port. */
  const openMedia = (peer: Peer, m: Message, size: number): void => {
    const { t, id, mac } = m.fields;
    if (!verifyToken(tokenKey, t, peer.transport, peer.seen, Date.now(), o.tokenMaxAgeMs)) return refuse(peer, 'token', size);
    if (!validSessionId(id)) return refuse(peer, 'syntax', size);
    const num = (v: string | undefined): number => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : NaN);
    const pps = num(m.fields.pps);
    const dur = num(m.fields.dur);
    const bytes = num(m.fields.size);
    if (media.problem(pps, bytes, dur)) return refuse(peer, 'media', size);
    if (opts.secret !== undefined && !(mac && safeEqual(mac, mediaMac(opts.secret, t!, id, pps, dur, bytes)))) return refuse(peer, 'auth', size);
    // A request too small for its answer opens nothing: the client could not learn it worked.
    const ok = encode('MEDIAOK', { id, seen: peer.seen }, 0, peer.newline);
    if (ok.length > size) {
      stats.suppressed++;
      return;
    }
    const r = media.open(peer.ip, peer.seen, id, pps, bytes, dur);
    if (r !== 'ok') return refuse(peer, r, size);
    stats.mediaSessions++;
    answer(peer, ok, size);
  };

  /** MSTAT t id: what this session's datagrams looked like on arrival. */
  const mediaStats = (peer: Peer, m: Message, size: number): void => {
    const { t, id } = m.fields;
    if (!verifyToken(tokenKey, t, peer.transport, peer.seen, Date.now(), o.tokenMaxAgeMs)) return refuse(peer, 'token', size);
    const c = validSessionId(id) ? media.counters(peer.seen, id) : undefined;
    if (!c) return refuse(peer, 'media', size);
    answer(peer, encode('MSTATS', { id: id!, ...c, seen: peer.seen }, 0, peer.newline), size);
  };

  /**
   * NATF t via: answer from another UDP port of this reflector, to the very source that asked
   * (its token proves it receives there). Whether the answer arrives tells the NAT's filtering.
   */
  const natFilter = (peer: Peer, m: Message, size: number): void => {
    const { t, via } = m.fields;
    if (!verifyToken(tokenKey, t, peer.transport, peer.seen, Date.now(), o.tokenMaxAgeMs)) return refuse(peer, 'token', size);
    const port = via !== undefined && /^\d{1,5}$/.test(via) ? Number(via) : NaN;
    const reply = encode('NATFOK', { via: port, to: peer.localPort ?? 0, seen: peer.seen }, 0, peer.newline);
    if (reply.length > size) {
      stats.suppressed++;
      return;
    }
    if (!peer.sendFrom?.(port, reply)) return refuse(peer, 'port', size);
  };

  const onDue = (flow: Flow): void => {
    if (flows.get(flow.key) !== flow) return;
    if (flow.woke) return forget(flow);
    wake(flow);
  };
  const queue = new DeadlineQueue(onDue);

  const wake = (flow: Flow): void => {
    stats.wakeLateMaxMs = Math.max(stats.wakeLateMaxMs, nowMs() - flow.due);
    const msg = encode('WAKE', { id: flow.id, seen: flow.peer.seen }, 0, flow.peer.newline);
    if (msg.length <= flow.budget) {
      flow.budget -= msg.length;
      flow.woke = true;
      stats.wakesSent++;
      try {
        flow.peer.send(msg);
      } catch {
        /* the connection is gone: the client will see that itself */
      }
    } else stats.suppressed++;
    flow.woke = true;
    flow.due = nowMs() + o.retainAfterWakeMs;
    queue.push(flow);
  };

  /** Per-source connection accounting for TCP and WebSocket. */
  const admit = (ip: string): boolean => {
    const n = connsPerIp.get(ip) ?? 0;
    if (n >= o.maxConnectionsPerSource) {
      stats.refused.flows = (stats.refused.flows ?? 0) + 1;
      log(`refused connection from ${ip}: ${n} already open`);
      return false;
    }
    connsPerIp.set(ip, n + 1);
    stats.connections++;
    return true;
  };
  const release = (ip: string): void => {
    const n = (connsPerIp.get(ip) ?? 1) - 1;
    if (n <= 0) connsPerIp.delete(ip);
    else connsPerIp.set(ip, n);
    stats.connections--;
  };

  // --- TCP -------------------------------------------------------------------------------------
  const onTcp = (s: Socket): void => {
    const ip = stripMapped(s.remoteAddress ?? '?');
    if (!admit(ip)) {
      s.destroy();
      return;
    }
    liveSockets.add(s);
    // Keepalive off: a keepalive probe would refresh the firewall state the client is measuring.
    s.setKeepAlive(false);
    s.setNoDelay(true);
    new TcpPeer(s, ip, tcpHooks);
  };
  const tcpHooks: TcpHooks = {
    control,
    take: (ip, n) => messages.take(ip) && (n === 0 || bytes.take(ip, n)),
    onRateLimited: () => void stats.rateLimited++,
    onEcho: () => void stats.echoed++,
    refuseLong: (peer, n) => refuse(peer, 'syntax', n),
    onClose: (peer, sock) => {
      liveSockets.delete(sock);
      release(peer.ip);
      if (peer.flows) for (const f of [...peer.flows]) forget(f);
    },
  };

  // --- UDP -------------------------------------------------------------------------------------
  const onUdp = (sock: UdpSocket, msg: Buffer, rinfo: RemoteInfo): void => {
    const ip = stripMapped(rinfo.address);
    // A media session's datagrams have their own budget (its declared rate), not the general one.
    if (isMediaPacket(msg)) {
      const f = decodeMediaPacket(msg);
      const r = media.packet(formatSeen(rinfo.address, rinfo.port), f.sid, f.seq, f.sentMs, msg);
      if (r === 'limited') {
        stats.rateLimited++;
        return;
      }
      if (r !== 'unknown') {
        stats.echoed++;
        stats.mediaEchoed++;
        sock.send(r, rinfo.port, rinfo.address);
        return;
      }
    }
    if (!messages.take(ip)) {
      stats.rateLimited++;
      return;
    }
    const send = (b: Buffer): void => {
      sock.send(b, rinfo.port, rinfo.address);
    };
    if (isControl(msg)) {
      const sendFrom = (port: number, b: Buffer): boolean => {
        const other = udpByPort.get(port);
        if (!other) return false;
        other.send(b, rinfo.port, rinfo.address);
        return true;
      };
      control({ transport: 'udp', ip, seen: formatSeen(rinfo.address, rinfo.port), newline: false, send, sendFrom, localPort: sock.address().port }, msg);
      return;
    }
    if (!bytes.take(ip, msg.length)) {
      stats.rateLimited++;
      return;
    }
    stats.echoed++;
    send(msg);
  };

  // --- WebSocket -------------------------------------------------------------------------------
  const onWs = (ws: WebSocket, req: IncomingMessage): void => {
    const ip = stripMapped(req.socket.remoteAddress ?? '?');
    if (!admit(ip)) {
      ws.close(1013, 'too many connections');
      return;
    }
    req.socket.setKeepAlive(false);
    const peer: Peer = {
      transport: 'ws',
      ip,
      seen: formatSeen(req.socket.remoteAddress ?? '?', req.socket.remotePort ?? 0),
      newline: false,
      send: (b) => {
        if (ws.readyState === 1) ws.send(b, { binary: false });
      },
    };
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!messages.take(ip)) {
        stats.rateLimited++;
        return;
      }
      if (!isBinary && isControl(data)) return control(peer, data);
      if (!bytes.take(ip, data.length)) {
        stats.rateLimited++;
        return;
      }
      stats.echoed++;
      ws.send(data, { binary: isBinary });
    });
    ws.on('error', () => {
      /* oversized frames and resets end the connection; nothing else to do */
    });
    ws.once('close', () => {
      release(ip);
      if (peer.flows) for (const f of [...peer.flows]) forget(f);
    });
  };

  const out: Reflector = {
    listen,
    tcp: [],
    udp: [],
    ws: [],
    wss: [],
    selfSigned: false,
    secret: opts.secret !== undefined,
    describe: () => describe(out, o, opts),
    stats: () => ({ ...stats, refused: { ...stats.refused } }),
    close: async () => {
      clearInterval(sweeper);
      media.clear();
      for (const f of [...flows.values()]) forget(f);
      queue.clear();
      for (const s of liveSockets) s.destroy();
      await Promise.all(closers.map((c) => c()));
    },
  };

  const bindTcp = (srv: TcpServer | HttpServer, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: listen, port, backlog: 4096 }, () => {
        srv.off('error', reject);
        resolve((srv.address() as AddressInfo).port);
      });
    });

  try {
    for (const p of opts.tcpPorts ?? []) {
      const srv = createTcpServer({ noDelay: true }, onTcp);
      out.tcp.push(await bindTcp(srv, p));
      closers.push(() => new Promise((r) => srv.close(() => r())));
    }
    for (const p of opts.udpPorts ?? []) {
      const sock = createSocket({ type: isIP(listen) === 6 ? 'udp6' : 'udp4' });
      sock.on('message', (msg, rinfo) => onUdp(sock, msg, rinfo));
      sock.on('error', () => {
        /* ICMP for a datagram to a vanished client */
      });
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(p, listen, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      out.udp.push(sock.address().port);
      udpByPort.set(sock.address().port, sock);
      closers.push(() => new Promise((r) => sock.close(() => r())));
    }
    const wsServe = async (port: number, tls?: { cert: string; key: string }): Promise<number> => {
      const onRequest = (_req: IncomingMessage, res: import('node:http').ServerResponse): void => {
        // 17 bytes: smaller than any HTTP request that could have caused it (no amplification).
        res.socket?.end('HTTP/1.1 426 \r\n\r\n');
      };
      const srv = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, onRequest) : createHttpServer(onRequest);
      // Node's default answer to a malformed request (400 + headers) can exceed the request: just close.
      srv.on('clientError', (_err: Error, sock: import('node:stream').Duplex) => sock.destroy());
      srv.on('connection', (s: Socket) => {
        liveSockets.add(s);
        s.once('close', () => liveSockets.delete(s));
      });
      const wss = new WebSocketServer({ server: srv, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
      wss.on('connection', onWs);
      wss.on('error', () => undefined);
      const bound = await bindTcp(srv, port);
      closers.push(() => new Promise((r) => {
        wss.close();
        srv.close(() => r());
      }));
      return bound;
    };
    for (const p of opts.wsPorts ?? []) out.ws.push(await wsServe(p));
    if (opts.wssPorts?.length) {
      let tls = opts.tls;
      if (!tls) {
        tls = await selfSignedCert([...new Set(['localhost', listen === '0.0.0.0' || listen === '::' ? '127.0.0.1' : listen])]);
        out.selfSigned = true;
      }
      out.fingerprint = fingerprintOf(tls.cert);
      for (const p of opts.wssPorts) out.wss.push(await wsServe(p, tls));
    }
  } catch (err) {
    await out.close();
    throw err;
  }
  return out;
}

function describe(r: Reflector, o: { maxFlows: number; maxFlowsPerSource: number; maxGapMs: number }, opts: ReflectorOptions): string {
  const D = REFLECTOR_DEFAULTS;
  const host = r.listen.includes(':') ? `[${r.listen}]` : r.listen;
  const parts: string[] = [];
  if (r.tcp.length) parts.push(`TCP echo ${r.tcp.join(',')}`);
  if (r.udp.length) parts.push(`UDP echo ${formatPorts(r.udp)}`);
  for (const p of r.ws) parts.push(`ws://${host}:${p}${D.wsPath}`);
  for (const p of r.wss) parts.push(`wss://${host}:${p}${D.wsPath}`);
  const lines = [`netcheck reflect: listening on ${r.listen} — ${parts.join('; ') || 'nothing'}`];
  if (r.fingerprint) lines.push(`  TLS certificate ${r.selfSigned ? '(self-signed, generated now) ' : ''}SHA-256 ${r.fingerprint}`);
  lines.push(
    `  control protocol NCR1; shared secret ${r.secret ? 'required' : 'not set (anyone who can reach this may arm flows, to themselves only)'}; ` +
      `limits: ${opts.ratePerSecond ?? D.ratePerSecond} msg/s per source, ${o.maxFlows} flows (${o.maxFlowsPerSource} per source), gap ≤ ${Math.round(o.maxGapMs / 60000)}m` +
        (r.udp.length ? `; media sessions ≤ ${opts.mediaMaxPps ?? D.mediaMaxPps} packets/s, ${Math.round((opts.mediaMaxMs ?? D.mediaMaxMs) / 60000)}m` : ''),
  );
  if (r.listen === '0.0.0.0' || r.listen === '::') lines.push('  exposed on every interface: run it only where the idle checks need it, and prefer --secret');
  return lines.join('\n');
}

