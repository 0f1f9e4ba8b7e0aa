/**
 * The daemon's HTTP endpoints: /metrics (Prometheus), /healthz, /report (latest JSON report).
 * Read-only, GET/HEAD only. Binding is the caller's choice; the CLI defaults to 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Report } from '../types.js';

export interface ServerSources {
  registry: Registry;
  health(): Record<string, unknown>;
  /** Latest report of a catalog, or the most recent of any when `catalog` is absent. */
  latest(catalog?: string): Report | undefined;
  catalogs(): string[];
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(head ? undefined : body);
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

async function handle(src: ServerSources, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', false, { allow: 'GET, HEAD' });
  const url = new URL(req.url ?? '/', 'http://netcheck.invalid');
  switch (url.pathname) {
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
        `netcheck daemon\n  /metrics  Prometheus metrics\n  /healthz  liveness and last runs\n  /report   latest report (JSON); ?catalog=${src.catalogs()[0] ?? 'ID'}\n`,
        head,
      );
    default:
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  }
}

/** Start listening; resolves with the bound address (port 0 picks a free port). */
export async function startServer(src: ServerSources, host: string, port: number, onError?: (err: Error) => void): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    handle(src, req, res).catch((err: unknown) => {
      // A bug in an endpoint must not take the daemon down; say so to the scraper.
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(err as Error).message}\n`, false);
      else res.destroy();
    });
  });
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
