/**
 * Lab server fixture: `node dist/lab/serve.js '<json>'` starts the listeners a test or the demo
 * needs inside a namespace (normally the lab's server namespace), prints one JSON line with the
 * bound ports, and runs until killed.
 *
 * Input (every list is optional; port 0 means "any free port"):
 * ```json
 * {"host":"10.200.2.2","tcp":[0],"tcpHang":[0],"udp":[0],"udpSilent":[0],"http":[0],"portal":[0]}
 * ```
 * - `tcp`: accepts and echoes what it receives (an ordinary open TCP port).
 * - `tcpHang`: accepts and then never reads, writes nor closes (a hostile peer).
 * - `udp`: echoes every datagram back (a UDP service that answers).
 * - `udpSilent`: binds the port and never answers (open, but silent: `open|filtered` to a prober).
 * - `http`: answers every request `200 ok` (or `/status/NNN` with that status, `/big/N` with an
 *   N-byte body: replies that need full-size packets, for path-MTU tests).
 * - `portal`: a captive portal: every request is redirected (302) to a login page.
 *
 * Output: `{"ready":true,"host":…,"tcp":[…],"tcpHang":[…],"udp":[…],"udpSilent":[…],"http":[…]}`
 * with the bound ports in the order given.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { isMainModule } from '../platform/embedded.js';

/** What the fixture should start. */
export interface ServeSpec {
  host?: string;
  tcp?: number[];
  tcpHang?: number[];
  udp?: number[];
  udpSilent?: number[];
  http?: number[];
  portal?: number[];
}

/** What the fixture started: the bound ports, in the order given. */
export interface ServeReady {
  ready: true;
  host: string;
  tcp: number[];
  tcpHang: number[];
  udp: number[];
  udpSilent: number[];
  http: number[];
  portal: number[];
}

/** Where the lab's captive portal sends every request. */
export const PORTAL_LOGIN = 'http://login.portal.test/guest?continue=1';

/** A running fixture inside this process. */
export interface Served extends ServeReady {
  close(): Promise<void>;
}

/** Start the fixture's servers in this process (also used directly by loopback tests and the demo). */
export async function serve(spec: ServeSpec): Promise<Served> {
  const host = spec.host ?? '127.0.0.1';
  const closers: (() => Promise<void>)[] = [];
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('error', () => {
      /* a prober resetting the connection is normal */
    });
    s.once('close', () => sockets.delete(s));
  };

  const tcpListen = async (port: number, onConn: (s: Socket) => void): Promise<number> => {
    const srv = createServer((s) => {
      track(s);
      onConn(s);
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host, port, backlog: 4096 }, () => resolve());
    });
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    return (srv.address() as AddressInfo).port;
  };

  const udpBind = async (port: number, echo: boolean): Promise<number> => {
    const s = createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    if (echo) s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
    s.on('error', () => {
      /* ICMP for a reply to a vanished client: ignore */
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, host, () => resolve());
    });
    closers.push(() => new Promise<void>((r) => s.close(() => r())));
    return s.address().port;
  };

  const httpListen = async (port: number, portal = false): Promise<number> => {
    const srv = createHttpServer((req, res) => {
      if (portal) {
        res.writeHead(302, { location: PORTAL_LOGIN, 'content-type': 'text/html', connection: 'close' });
        res.end('<html><head><title>Guest WiFi login</title></head><body>Sign in to continue</body></html>');
        return;
      }
      const big = /^\/big\/(\d{1,7})$/.exec(req.url ?? '');
      if (big) {
        res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
        res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(Number(big[1])));
        return;
      }
      const m = /^\/status\/(\d{3})$/.exec(req.url ?? '');
      const code = m ? Number(m[1]) : 200;
      res.writeHead(code, { 'content-type': 'text/plain', connection: 'close' });
      res.end(code === 200 ? 'ok\n' : `${code}\n`);
    });
    srv.on('connection', track);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host, port }, () => resolve());
    });
    closers.push(() => new Promise<void>((r) => srv.close(() => r())));
    return (srv.address() as AddressInfo).port;
  };

  const out: ServeReady = { ready: true, host, tcp: [], tcpHang: [], udp: [], udpSilent: [], http: [], portal: [] };
  try {
    for (const p of spec.tcp ?? []) out.tcp.push(await tcpListen(p, (s) => s.pipe(s)));
    for (const p of spec.tcpHang ?? []) out.tcpHang.push(await tcpListen(p, (s) => s.pause()));
    for (const p of spec.udp ?? []) out.udp.push(await udpBind(p, true));
    for (const p of spec.udpSilent ?? []) out.udpSilent.push(await udpBind(p, false));
    for (const p of spec.http ?? []) out.http.push(await httpListen(p));
    for (const p of spec.portal ?? []) out.portal.push(await httpListen(p, true));
  } catch (err) {
    await Promise.all(closers.map((c) => c()));
    throw err;
  }
  return {
    ...out,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(closers.map((c) => c()));
    },
  };
}

/**
 * Wait for a spawned fixture's ready line (e.g. from `lab.spawn('server', ['node', SERVE_JS, json])`).
 * Rejects with the fixture's stderr if it exits first or does not start within `timeoutMs`.
 */
export function waitReady(child: import('node:child_process').ChildProcess, timeoutMs = 10_000): Promise<ServeReady> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`lab server did not start within ${timeoutMs}ms: ${err.trim()}`)), timeoutMs);
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    const onData = (d: string): void => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      try {
        resolve(JSON.parse(out.slice(0, nl)) as ServeReady);
      } catch {
        reject(new Error(`lab server printed something unexpected: ${out.slice(0, nl)}`));
      }
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`lab server exited (${code}) before it was ready: ${err.trim()}`));
    });
  });
}

/** Path of this module's built file, for `node <SERVE_JS> '<json>'`. */
export const SERVE_JS = new URL(import.meta.url).pathname;

/** `node serve.js '<json>'` (or the bundle's hidden `__lab-serve '<json>'`): serve until SIGTERM. */
export async function serveMain(arg: string | undefined): Promise<void> {
  if (!arg) {
    process.stderr.write(`usage: node serve.js '{"host":"10.200.2.2","tcp":[0],"udp":[0],"http":[0]}'\n`);
    process.exitCode = 2;
    return;
  }
  let spec: ServeSpec;
  try {
    spec = JSON.parse(arg) as ServeSpec;
  } catch (e) {
    process.stderr.write(`serve: the argument is not JSON: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const s = await serve(spec);
  const { close, ...ready } = s;
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const stop = (): void => {
    // Closing every server empties the event loop, so the process ends by itself.
    void close();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (isMainModule(import.meta.url)) {
  serveMain(process.argv[2]).catch((e: unknown) => {
    process.stderr.write(`serve: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
