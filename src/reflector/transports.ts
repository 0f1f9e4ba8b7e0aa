/**
 * The reflector's transports: TCP (echo, or newline-delimited control), UDP (echo, media, control)
 * and WebSocket (echo, control), each behind the per-source limits.
 */
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { decodeMediaPacket, isMediaPacket } from '../media/packet.js';
import type { Control } from './control.js';
import type { FlowTable } from './flows.js';
import { stripMapped, type Admission, type RateLimiter } from './limits.js';
import type { MediaSessions } from './media.js';
import type { Flow, Peer, ReflectorStats } from './peer.js';
import { MAX_MESSAGE_BYTES, formatSeen, isControl } from './protocol.js';

const EMPTY = Buffer.alloc(0);
const CONTROL_PREFIX = Buffer.from('NCR1 ');
function noop(): void {
  /* a client resetting its flow is what idle checks do */
}

/** What the transports share: control, flows, media sessions, limits, counters, open sockets. */
export interface TransportContext {
  control: Control;
  flows: FlowTable;
  media: MediaSessions;
  stats: ReflectorStats;
  messages: RateLimiter;
  bytes: RateLimiter;
  admission: Admission;
  /** Sockets to destroy at close. */
  liveSockets: Set<Socket>;
  /** UDP sockets by the port they serve (NATF answers from another one). */
  udpByPort: Map<number, UdpSocket>;
}

export interface TcpHooks {
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
export class TcpPeer implements Peer {
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


/** Accept TCP connections: admitted per source, then echo or control (TcpPeer). */
export function tcpHandler(x: TransportContext): (s: Socket) => void {
  const { control, messages, bytes, stats, admission, liveSockets, flows } = x;
  const tcpHooks: TcpHooks = {
    control: (peer, line) => control.handle(peer, line),
    take: (ip, n) => messages.take(ip) && (n === 0 || bytes.take(ip, n)),
    onRateLimited: () => void stats.rateLimited++,
    onEcho: () => void stats.echoed++,
    refuseLong: (peer, n) => control.refuse(peer, 'syntax', n),
    onClose: (peer, sock) => {
      liveSockets.delete(sock);
      admission.release(peer.ip);
      flows.forgetPeer(peer);
    },
  };
  return (s: Socket): void => {
    const ip = stripMapped(s.remoteAddress ?? '?');
    if (!admission.admit(ip)) {
      s.destroy();
      return;
    }
    liveSockets.add(s);
    // Keepalive off: a keepalive probe would refresh the firewall state the client is measuring.
    s.setKeepAlive(false);
    s.setNoDelay(true);
    new TcpPeer(s, ip, tcpHooks);
  };
}

/** Datagrams: media packets of an open session, control messages, or echo. */
export function udpHandler(x: TransportContext): (sock: UdpSocket, msg: Buffer, rinfo: RemoteInfo) => void {
  const { control, messages, bytes, stats, media, udpByPort } = x;
  return (sock, msg, rinfo) => {
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
      control.handle({ transport: 'udp', ip, seen: formatSeen(rinfo.address, rinfo.port), newline: false, send, sendFrom, localPort: sock.address().port }, msg);
      return;
    }
    if (!bytes.take(ip, msg.length)) {
      stats.rateLimited++;
      return;
    }
    stats.echoed++;
    send(msg);
  };
}

/** WebSocket connections: admitted per source, then text control messages or echo. */
export function wsHandler(x: TransportContext): (ws: WebSocket, req: IncomingMessage) => void {
  const { control, messages, bytes, stats, admission, flows } = x;
  return (ws, req) => {
    const ip = stripMapped(req.socket.remoteAddress ?? '?');
    if (!admission.admit(ip)) {
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
      if (!isBinary && isControl(data)) return control.handle(peer, data);
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
      admission.release(ip);
      flows.forgetPeer(peer);
    });
  };
}
