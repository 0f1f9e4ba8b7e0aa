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
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, isIP, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { formatPorts } from '../util/ip.js';
import { selfSignedCert, fingerprintOf } from './cert.js';
import { Control } from './control.js';
import { FlowTable } from './flows.js';
import { Admission, RateLimiter } from './limits.js';
import { MediaSessions } from './media.js';
import { emptyStats, type ReflectorStats } from './peer.js';
import { REFLECTOR_DEFAULTS, newTokenKey } from './protocol.js';
import { tcpHandler, udpHandler, wsHandler, type TransportContext } from './transports.js';

export type { ReflectorStats } from './peer.js';

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
  const stats = emptyStats();
  const flows = new FlowTable(stats, o.retainAfterWakeMs);
  const media = new MediaSessions({
    maxPps: opts.mediaMaxPps ?? D.mediaMaxPps,
    maxMs: opts.mediaMaxMs ?? D.mediaMaxMs,
    bytesPerSecondPerSource: opts.mediaBytesPerSecondPerSource ?? D.mediaBytesPerSecondPerSource,
    sessionsPerSource: opts.mediaSessionsPerSource ?? D.mediaSessionsPerSource,
    maxSessions: D.mediaMaxSessions,
    retainMs: D.mediaRetainMs,
  });
  const control = new Control({ ...o, tokenKey: newTokenKey(), ...(opts.secret !== undefined ? { secret: opts.secret } : {}) }, flows, media, stats, log);
  const x: TransportContext = {
    control,
    flows,
    media,
    stats,
    messages,
    bytes,
    admission: new Admission(o.maxConnectionsPerSource, stats, log),
    liveSockets: new Set<Socket>(),
    udpByPort: new Map<number, UdpSocket>(),
  };
  const { liveSockets, udpByPort } = x;
  const closers: (() => Promise<void>)[] = [];
  const sweeper = setInterval(() => {
    messages.sweep();
    bytes.sweep();
    media.sweep();
  }, 30_000);
  sweeper.unref();
  const onTcp = tcpHandler(x);
  const onUdp = udpHandler(x);
  const onWs = wsHandler(x);

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
      flows.clear();
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

