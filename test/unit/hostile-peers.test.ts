/**
 * Issue 11: no peer, however it misbehaves, may crash a run or keep it from ending. Every
 * connection-oriented probe kind runs in one catalog against each hostile server and hostile
 * proxy below (real sockets on loopback): a run must end with every line's result, on time.
 * A stalled TLS handshake in an `http` check with `scheme: https` used to kill the process
 * (unhandled 'error' on a socket destroyed at the deadline); ocsp/crl over https waited forever.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';
import { scriptedDns } from '../helpers/servers.js';
import { Pki } from '../helpers/pki.js';

// Generous: on a loaded machine a TLS handshake on loopback can take a few hundred milliseconds.
const TIMEOUT_MS = 1000;
const dir = mkdtempSync(join(tmpdir(), 'nc-hostile-'));
const servers: Server[] = [];
const pki = new Pki('nc-hostile-pki-');

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

/** A server whose accepted sockets get `onConn`; closed (with its sockets) after the file. */
async function serve(onConn: (s: Socket) => void, tls?: { key: string; cert: string }): Promise<number> {
  const sockets = new Set<Socket>();
  const srv = tls ? createTlsServer(tls, (s) => onConn(s)) : createNetServer(onConn);
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  srv.on('tlsClientError', () => undefined);
  const close = srv.close.bind(srv);
  srv.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as typeof srv.close;
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return (srv.address() as AddressInfo).port;
}

/** Every kind that opens a TCP stream, as catalog lines against 127.0.0.1:port. */
function catalogFor(name: string, port: number, opts: { idle?: boolean; pin?: string } = {}): string {
  const ported: [string, string][] = [
    ['tcp', '{ kind: tcp }'],
    ['http', '{ kind: http, scheme: http }'],
    ['https', '{ kind: http, scheme: https }'],
    ['tls', '{ kind: tls }'],
    ['ws-hold', '{ kind: ws-hold, hold: 1s, pingEvery: 300ms, pongTimeout: 300ms }'],
    ['wss-hold', `{ kind: ws-hold, tls: true, hold: 1s, pingEvery: 300ms, pongTimeout: 300ms${opts.pin ? `, fingerprint: "${opts.pin}"` : ''} }`],
  ];
  // The idle kinds wait their fixed 5 s set-up on a silent peer: only where the peer answers at once.
  if (opts.idle) ported.push(['ws-idle', '{ kind: ws-idle, gaps: [200ms] }'], ['tcp-idle', '{ kind: tcp-idle, gaps: [200ms] }']);
  let body = '';
  for (const [id, check] of ported) body += `      - { id: ${id}, description: ${id}, targets: [127.0.0.1], ports: [${port}], checks: [${check}] }\n`;
  for (const [id, kind, scheme] of [['ocsp', 'ocsp', 'http'], ['ocsps', 'ocsp', 'https'], ['crl', 'crl', 'http'], ['crls', 'crl', 'https']]) {
    body += `      - { id: ${id}, description: ${id}, targets: ["${scheme}://127.0.0.1:${port}/x"], checks: [{ kind: ${kind} }] }\n`;
  }
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `schema: netcheck/catalog/v1\nid: ${name}\ntitle: hostile ${name}\nsource: test\nsections:\n  - id: main\n    name: Main\n    lines:\n${body}`);
  return file;
}


/** Run a catalog; the run must end by itself, with a report holding every line, on time. */
async function runSurvives(file: string, extra: string[] = [], budgetMs = 6 * TIMEOUT_MS): Promise<Report> {
  const r = await runCli(['run', '--catalog', file, '--no-control', '--timeout', `${TIMEOUT_MS}ms`, '--json', '--quiet', ...extra], { timeoutMs: 40_000 });
  expect(r.stderr, 'no crash, no warning noise').toBe('');
  // 1: some line fails (every peer here misbehaves). Not null (killed), not 70 (a bug).
  expect(r.code).toBe(1);
  const report = JSON.parse(r.stdout) as Report;
  expect(report.interrupted).toBe(false);
  expect(report.probes.length).toBe(report.lines.length);
  for (const p of report.probes) {
    expect(p.internal, `${p.line}: ${p.reason} ${p.detail}`).toBeUndefined();
    expect(p.durationMs, `${p.line} ends near its deadline`).toBeLessThan(p.kind.endsWith('-idle') ? 5000 + budgetMs : budgetMs);
  }
  return report;
}

const byLine = (r: Report): Record<string, string> => Object.fromEntries(r.probes.map((p) => [p.line, `${p.status} ${p.reason}`]));

describe('hostile peers never crash or hang a run (issue 11)', () => {
  let tls: { key: string; cert: string; pin: string };
  beforeAll(() => {
    const ca = pki.ca('ca', '/CN=Hostile Test Root');
    const leaf = pki.issue('leaf', ca, '/CN=127.0.0.1', { sans: 'IP:127.0.0.1' });
    tls = { key: leaf.keyPem, cert: leaf.pem, pin: new X509Certificate(leaf.pem).fingerprint256 };
  });

  it('a peer that accepts and never speaks: every kind ends at its deadline with a timeout', async () => {
    const port = await serve((s) => s.resume());
    const report = await runSurvives(catalogFor('silent', port));
    const lines = byLine(report);
    // The stalled TLS handshake that used to kill the process, and the ones that used to hang it.
    expect(lines.https).toBe('timeout TLS_HANDSHAKE_TIMEOUT');
    expect(lines.ocsps).toBe('timeout TLS_HANDSHAKE_TIMEOUT');
    expect(lines.crls).toBe('timeout TLS_HANDSHAKE_TIMEOUT');
    expect(lines.tls).toBe('timeout TLS_HANDSHAKE_TIMEOUT');
    expect(lines.http).toBe('timeout HTTP_HEADERS_TIMEOUT');
    // ws-hold honours --timeout while opening (it waited ~10 s, then said error/UNKNOWN).
    expect(lines['ws-hold']).toBe('timeout WS_HANDSHAKE_TIMEOUT');
    expect(lines['wss-hold']).toBe('timeout TLS_HANDSHAKE_TIMEOUT');
    expect(report.probes.find((p) => p.line === 'ws-hold')!.durationMs).toBeLessThan(3 * TIMEOUT_MS);
    const adhoc = await runCli(['probe', 'ws-hold', `127.0.0.1:${port}`, '--hold', '10m', '--timeout', '700ms', '--json', '--quiet']);
    const held = (JSON.parse(adhoc.stdout) as Report).probes[0]!;
    expect([held.status, held.reason]).toEqual(['timeout', 'WS_HANDSHAKE_TIMEOUT']);
    expect(held.durationMs).toBeLessThan(3 * 700);
  });

  it('a TLS server that completes the handshake, then never answers HTTP or the upgrade', async () => {
    const port = await serve((s) => s.resume(), tls);
    const lines = byLine(await runSurvives(catalogFor('tls-silent', port, { pin: tls.pin })));
    expect(lines.https).toBe('timeout HTTP_HEADERS_TIMEOUT');
    expect(lines['wss-hold']).toBe('timeout WS_HANDSHAKE_TIMEOUT');
    expect(lines.ocsps).toBe('timeout HTTP_HEADERS_TIMEOUT');
  });

  it('peers that reset, close, reset mid-handshake, or answer garbage', async () => {
    const peers: Record<string, (s: Socket) => void> = {
      reset: (s) => s.resetAndDestroy(),
      fin: (s) => s.end(),
      'reset-after-hello': (s) => s.once('data', () => setTimeout(() => s.resetAndDestroy(), 20)),
      garbage: (s) => s.write(Buffer.alloc(300, 0x41)),
      'broken-http': (s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc')),
    };
    // One after the other: a starved process sees its deadline timers before the I/O that beat them.
    const results: Record<string, Record<string, string>> = {};
    for (const [name, f] of Object.entries(peers)) results[name] = byLine(await runSurvives(catalogFor(name, await serve(f), { idle: name !== 'garbage' })));
    expect(results.reset!.tls).toMatch(/^refused /);
    expect(results['reset-after-hello']!.https).toBe('refused TLS_RESET');
    // The revocation fetches share the http kind's exchange: a reset mid-handshake is TLS_RESET there too.
    expect(results['reset-after-hello']!.ocsps).toBe('refused TLS_RESET');
  });

  it('a DNS server that never answers: probes of names end at their deadline, and so does the process', async () => {
    const dns = await scriptedDns('silent');
    try {
      // The resolver retries for ~4 s; the probe's deadline is 500 ms.
      const r = await runCli(['probe', 'tcp', 'name.test:9', '--dns-server', `127.0.0.1:${dns.port}`, '--timeout', '500ms', '--json', '--quiet']);
      expect(r.stderr).toBe('');
      const p = (JSON.parse(r.stdout) as Report).probes[0]!;
      expect([p.status, p.reason, p.internal]).toEqual(['error', 'DNS_TIMEOUT', undefined]);
      expect(p.durationMs).toBeLessThan(3 * 500);
      // Pending queries are cancelled with the run: the process does not wait out their retries.
      expect(r.ms).toBeLessThan(4000);
    } finally {
      await dns.close();
    }
  });

  it('proxies that stall, reset, or grant a tunnel to a silent peer', async () => {
    const proxies: Record<string, (s: Socket) => void> = {
      'proxy-silent': (s) => s.resume(),
      'proxy-reset': (s) => s.once('data', () => s.resetAndDestroy()),
      'proxy-tunnel-silent': (s) => s.once('data', () => s.write('HTTP/1.1 200 Connection established\r\n\r\n')),
      'proxy-garbage': (s) => s.once('data', () => s.write('SSH-2.0-not-a-proxy\r\n\r\n')),
    };
    for (const [name, f] of Object.entries(proxies)) {
      const proxyPort = await serve(f);
      // The destination is never reached: the proxy decides everything.
      const lines = byLine(await runSurvives(catalogFor(name, 9), ['--proxy', `http://127.0.0.1:${proxyPort}`]));
      if (name === 'proxy-tunnel-silent') expect(lines.https).toBe('timeout TLS_HANDSHAKE_TIMEOUT');
    }
  });
});
