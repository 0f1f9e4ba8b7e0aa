/**
 * The daemon's HTTP endpoints: /metrics (Prometheus), /healthz, /report (latest JSON report) and
 * /probe (a check run on scrape, blackbox_exporter's pattern: ./probe-endpoint.ts). GET/HEAD
 * only. Binding is the caller's choice; the CLI defaults to 127.0.0.1. With a web config
 * (./webconfig.ts) every endpoint is served over TLS and/or behind HTTP basic auth.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Registry } from 'prom-client';
import type { Report } from '../types.js';
import type { BasicAuth, WebConfig } from './webconfig.js';

export interface ServerSources {
  registry: Registry;
  health(): Record<string, unknown>;
  /** Latest report of a catalog, or the most recent of any when `catalog` is absent. */
  latest(catalog?: string): Report | undefined;
  catalogs(): string[];
  /** `/probe`: run a check now and answer with its metrics (absent: 404). */
  probe?(query: URLSearchParams, headers: IncomingMessage['headers']): Promise<{ status: number; type: string; body: string }>;
}

/** TLS and basic auth for the endpoints (`--web.config.file`). */
export interface ServerSecurity {
  tls?: WebConfig['tls'];
  auth?: BasicAuth;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(head ? undefined : body);
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/** Client certificate rules of exporter-toolkit's client_auth_type that a TLS handshake alone does not enforce. */
function clientCertProblem(sec: ServerSecurity, req: IncomingMessage): string | undefined {
  const mode = sec.tls?.clientAuth;
  if (!mode || mode === 'NoClientCert' || mode === 'RequestClientCert') return undefined;
  const socket = req.socket as TLSSocket;
  const given = Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
  if (!given && (mode === 'RequireAnyClientCert' || mode === 'RequireAndVerifyClientCert')) return 'a client certificate is required';
  if (given && (mode === 'VerifyClientCertIfGiven' || mode === 'RequireAndVerifyClientCert') && !socket.authorized) return `client certificate not trusted (${String(socket.authorizationError)})`;
  return undefined;
}

async function handle(src: ServerSources, sec: ServerSecurity, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  const certProblem = clientCertProblem(sec, req);
  if (certProblem) return send(res, 403, 'text/plain; charset=utf-8', `${certProblem}\n`, head);
  if (sec.auth?.enabled && !(await sec.auth.check(req.headers.authorization))) {
    return send(res, 401, 'text/plain; charset=utf-8', 'Unauthorized\n', head, { 'www-authenticate': 'Basic realm="netcheck", charset="UTF-8"' });
  }
  if (req.method !== 'GET' && !head) return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', false, { allow: 'GET, HEAD' });
  const url = new URL(req.url ?? '/', 'http://netcheck.invalid');
  switch (url.pathname) {
    case '/probe': {
      if (!src.probe) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      const r = await src.probe(url.searchParams, req.headers);
      return send(res, r.status, r.type, r.body, head);
    }
    case '/metrics': {
      const body = await src.registry.metrics();
      return send(res, 200, src.registry.contentType, body, head);
    }
    case '/healthz':
      return send(res, 200, 'application/json', json(src.health()), head);
    case '/report': {
      const cat = url.searchParams.get('catalog') ?? undefined;
      if (cat !== undefined && !src.catalogs().includes(cat)) {
        return send(res, 404, 'application/json', json({ error: `no catalog '${cat}' in this daemon`, catalogs: src.catalogs() }), head);
      }
      const r = src.latest(cat);
      if (!r) return send(res, 503, 'application/json', json({ error: 'no completed run yet', catalogs: src.catalogs() }), head, { 'retry-after': '10' });
      return send(res, 200, 'application/json', json(r), head);
    }
    case '/':
      return send(
        res,
        200,
        'text/plain; charset=utf-8',
        `netcheck daemon\n  /metrics  Prometheus metrics\n  /healthz  liveness and last runs\n  /report   latest report (JSON); ?catalog=${src.catalogs()[0] ?? 'ID'}\n` +
          (src.probe ? `  /probe    run one documented line now, for Prometheus: ?catalog=${src.catalogs()[0] ?? 'ID'}&line=LINE (or &target=HOST:PORT)\n` : ''),
        head,
      );
    default:
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  }
}

/** Start listening; resolves with the bound address (port 0 picks a free port). */
export async function startServer(src: ServerSources, host: string, port: number, onError?: (err: Error) => void, sec: ServerSecurity = {}): Promise<{ server: Server; address: AddressInfo }> {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(src, sec, req, res).catch((err: unknown) => {
      // A bug in an endpoint must not take the daemon down; say so to the scraper.
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}\n`, false);
      else res.destroy();
    });
  };
  const t = sec.tls;
  const server: Server = t
    ? createTlsServer(
        {
          cert: t.cert,
          key: t.key,
          ...(t.ca ? { ca: t.ca } : {}),
          // Node checks a certificate it asks for against `ca`; what each client_auth_type then
          // requires is enforced per request (clientCertProblem).
          requestCert: t.clientAuth !== 'NoClientCert',
          rejectUnauthorized: false,
          ...(t.minVersion ? { minVersion: t.minVersion } : {}),
          ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
        },
        onRequest,
      )
    : createServer(onRequest);
  // Scrapers use keep-alive; do not let an idle one hold shutdown for the default 5 s.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (e.g. EMFILE on accept) must not become an uncaught exception.
  server.on('error', (err) => onError?.(err));
  return { server, address: server.address() as AddressInfo };
}

/** Close the server and every connection it holds. */
export async function stopServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
