/**
 * Real loopback servers for the trust-path tests: TLS servers, hostile TLS peers, an intercepting
 * (re-signing) TLS proxy, a forward CONNECT proxy (npm `proxy`) and HTTP servers routing by path.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, TLSSocket, type Server as TlsServer } from 'node:tls';
import { createProxy } from 'proxy';

import type { Closeable } from './servers.js';

export type { Closeable };

function track(server: NetServer | HttpServer | TlsServer): () => Promise<void> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

async function listen(server: NetServer | HttpServer | TlsServer, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A TLS server presenting `certChain` (PEM, leaf first) that answers with a line and closes. */
export async function tlsServer(key: string, certChain: string, host = '127.0.0.1'): Promise<Closeable> {
  const server = createTlsServer({ key, cert: certChain }, (s) => {
    s.on('error', () => undefined);
    s.end('hello from the real server\n');
  });
  server.on('tlsClientError', () => undefined);
  const close = track(server);
  return { port: await listen(server, host), close };
}

/** A TCP server that answers anything with non-TLS bytes (an HTTP error), then closes. */
export async function garbageServer(): Promise<Closeable> {
  const server = createNetServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  });
  const close = track(server);
  return { port: await listen(server), close };
}

/** A TCP server that accepts and never says a word (a stalled handshake). */
export async function stallServer(): Promise<Closeable> {
  const server = createNetServer((s) => {
    s.on('error', () => undefined);
    s.resume();
  });
  const close = track(server);
  return { port: await listen(server), close };
}

/** A TCP server that resets every connection as soon as the ClientHello arrives. */
export async function resetServer(): Promise<Closeable> {
  const server = createNetServer((s) => {
    s.on('error', () => undefined);
    s.once('data', () => s.resetAndDestroy());
  });
  const close = track(server);
  return { port: await listen(server), close };
}

/**
 * A transparent intercepting TLS proxy: terminates TLS with its own certificate (issued by its own
 * CA) and relays the plaintext to the real upstream over a fresh TLS connection.
 */
export async function interceptingTlsProxy(key: string, certChain: string, upstream: { host: string; port: number }): Promise<Closeable> {
  const server = createTlsServer({ key, cert: certChain }, (client) => {
    client.on('error', () => undefined);
    const up = tlsConnect({ host: upstream.host, port: upstream.port, rejectUnauthorized: false });
    up.on('error', () => client.destroy());
    client.pipe(up).pipe(client);
  });
  server.on('tlsClientError', () => undefined);
  const close = track(server);
  return { port: await listen(server), close };
}

/**
 * An intercepting CONNECT proxy (how TLS-inspecting secure web gateways work): it accepts CONNECT,
 * answers 200, then terminates the client's TLS with its own certificate and relays to the target.
 */
export async function interceptingConnectProxy(key: string, certChain: string): Promise<Closeable> {
  const server = createHttpServer();
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(':')).replace(/^\[|\]$/g, ''), Number(req.url!.slice(req.url!.lastIndexOf(':') + 1))];
    socket.write('HTTP/1.1 200 Connection established\r\nVia: 1.1 inspector\r\n\r\n');
    const client = new TLSSocket(socket, { isServer: true, key, cert: certChain });
    client.on('error', () => undefined);
    const up = tlsConnect({ host, port, rejectUnauthorized: false });
    up.on('error', () => client.destroy());
    client.pipe(up).pipe(client);
  });
  const close = track(server);
  return { port: await listen(server), close };
}

/** A real forward proxy (npm `proxy`: GET forwarding and CONNECT), optionally with basic auth. */
export async function forwardProxy(auth?: { user: string; pass: string }, host = '127.0.0.1'): Promise<Closeable & { connects: string[] }> {
  const server = createProxy(createHttpServer());
  const connects: string[] = [];
  server.on('connect', (req: IncomingMessage) => connects.push(req.url ?? ''));
  server.on('request', (req: IncomingMessage) => connects.push(`${req.method} ${req.url}`));
  if (auth) {
    const expected = `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}`;
    server.authenticate = (req) => req.headers['proxy-authorization'] === expected;
  }
  const close = track(server);
  return { port: await listen(server, host), close, connects };
}

/** A "blocking proxy": answers every CONNECT and request with a 403 HTML block page and a Via header. */
export async function blockingProxy(): Promise<Closeable> {
  const page = '<!DOCTYPE html><html><body><h1>Access denied</h1>Blocked by corporate policy.</body></html>';
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(403, { 'content-type': 'text/html', via: '1.1 gateway (BlockingProxy)' });
    res.end(page);
  });
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => undefined);
    socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\nVia: 1.1 gateway (BlockingProxy)\r\nContent-Length: ${page.length}\r\n\r\n${page}`);
  });
  const close = track(server);
  return { port: await listen(server), close };
}

/** An HTTP server mapping paths to handlers. */
export async function routeServer(routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>, host = '127.0.0.1'): Promise<Closeable & { hits: string[] }> {
  const hits: string[] = [];
  const server = createHttpServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const h = routes[new URL(req.url ?? '/', 'http://x').pathname];
    if (h) h(req, res);
    else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  const close = track(server);
  return { port: await listen(server, host), close, hits };
}
