/**
 * Real servers for loopback tests: each listens on 127.0.0.1 port 0 and is closed by the test.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';

export interface Closeable {
  port: number;
  close(): Promise<void>;
}

/** A TCP server whose accepted sockets get `onConn`; tracked so close() never hangs. */
export async function tcpServer(onConn: (s: Socket) => void = () => undefined, host = '127.0.0.1'): Promise<Closeable> {
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(0, host, r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

/** A port on which nothing listens (bound, then released). */
export async function closedTcpPort(): Promise<number> {
  const s = await tcpServer();
  await s.close();
  return s.port;
}

export async function udpServer(onMessage: (msg: Buffer, reply: (b: Buffer) => void) => void, host = '127.0.0.1'): Promise<Closeable & { socket: UdpSocket }> {
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg, rinfo) => onMessage(msg, (b) => sock.send(b, rinfo.port, rinfo.address)));
  await new Promise<void>((r) => sock.bind(0, host, r));
  return { socket: sock, port: sock.address().port, close: () => new Promise((r) => sock.close(() => r())) };
}

export async function closedUdpPort(): Promise<number> {
  const s = await udpServer(() => undefined);
  await s.close();
  return s.port;
}

export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Closeable> {
  const sockets = new Set<Socket>();
  const srv = createHttpServer(handler);
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

/**
 * A scripted DNS server for the cases a well-behaved resolver will not produce on demand:
 * SERVFAIL, garbage, silence. Answers real DNS wire format (dns-packet).
 */
export async function scriptedDns(mode: 'servfail' | 'garbage' | 'silent' | 'refused'): Promise<Closeable> {
  return udpServer((msg, reply) => {
    if (mode === 'silent') return;
    if (mode === 'garbage') return reply(Buffer.from('this is not a DNS message at all, just bytes'));
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    reply(dnsPacket.encode({ id: q.id, type: 'response', flags: mode === 'servfail' ? 2 : 5, questions: q.questions ?? [], answers: [] }));
  });
}
