/**
 * Verdicts a support engineer can trust (issue 10), through the real CLI against real servers on
 * loopback: no false pass (a port of a sampled range that never gets through, TLS re-signed on
 * one address), no false alarm ("no outbound connectivity" from silence, NXDOMAIN or running out of
 * file descriptors), and words that say what happened (NXDOMAIN points at DNS, STUN is UDP,
 * `--only` means not run, stable reason codes). The firewall cases are in test/lab/verdicts.test.ts.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASONS } from '../../src/reasons.js';
import type { Report } from '../../src/types.js';
import { writeCatalog } from '../helpers/catalog.js';
import { cliEnv, ROOT, runCli } from '../helpers/cli.js';
import { startDnsmasq } from '../helpers/daemons.js';
import { closedTcpPort, closedUdpPort, type Closeable } from '../helpers/servers.js';
import { needTools } from '../helpers/tools.js';
import { Pki, type Issued } from '../helpers/pki.js';

/** The CLI's environment: no proxy variables from the machine running the tests. */
const run = (args: string[], timeoutMs?: number) => runCli(args, timeoutMs ? { timeoutMs } : {});
const report = (stdout: string): Report => JSON.parse(stdout) as Report;

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
});

/** Close a server after destroying its connections (a half-closed peer would hold close() open). */
function closer(server: Server): () => Promise<void> {
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (c) => {
    sockets.add(c);
    c.once('close', () => sockets.delete(c));
  });
  // TLS servers report their raw sockets on 'connection' too.
  return () =>
    new Promise<void>((r) => {
      for (const c of sockets) c.destroy();
      server.close(() => r());
    });
}

/** Listen on the same port on each loopback address (a sampled range's addresses), retrying on a clash. */
async function samePort(hosts: string[], make: () => Server): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const servers: Server[] = [];
    try {
      let port = 0;
      const closing: (() => Promise<void>)[] = [];
      for (const host of hosts) {
        const s = make();
        servers.push(s);
        closing.push(closer(s));
        await new Promise<void>((resolve, reject) => {
          s.once('error', reject);
          s.listen(port, host, () => resolve());
        });
        port = (s.address() as AddressInfo).port;
      }
      closers.push(...closing);
      return port;
    } catch (err) {
      for (const s of servers) s.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 20) throw err;
    }
  }
}

const tcpListener = (): Server =>
  createServer((s) => {
    s.on('error', () => undefined);
    s.resume();
  });

describe('a multi-port line of a sampled range is judged per port', () => {
  it('TCP answers on one port and is refused on the other on every sample: partial, naming the port', async () => {
    const open = await samePort(['127.0.0.1', '127.0.0.2'], tcpListener);
    let closed = await closedTcpPort();
    while (closed === open) closed = await closedTcpPort();
    const file = writeCatalog([{ id: 'push', targets: ['127.0.0.0/30'], ports: [open, closed], checks: '[{ kind: tcp }]', extra: '        sample: { count: 2 }\n' }]);
    const r = await run(['run', '--catalog', file, '--no-control', '--json', '--timeout', '1s']);
    const rep = report(r.stdout);
    const line = rep.lines[0]!;
    expect(rep.probes.filter((p) => p.status === 'ok').map((p) => p.port)).toEqual([open, open]);
    // Before issue 10: "2 of 4 sampled probes answered", pass, exit 0.
    expect(line.verdict).toBe('partial');
    expect(line.reason).toContain(`TCP ${closed}: 2 refused`);
    expect(line.remediation).toContain(`Allow outbound TCP ${closed} to 127.0.0.0/30`);
    expect(line.remediation).not.toContain(String(open));
    expect(r.code).toBe(1);
  });
});

describe('TLS interception on a 443-style line (tcp + tls)', () => {
  let pki: Pki;
  let vendorCa: Issued;
  let caFile: string;
  let vendor: Issued;
  let resigned: Issued;
  beforeAll(() => {
    pki = new Pki();
    closers.push(async () => pki.cleanup());
    vendorCa = pki.ca('vendor-ca', '/O=Vendor/CN=Vendor Root');
    caFile = vendorCa.cert;
    // The vendor's default certificate names a host, not the bare address probed without SNI.
    vendor = pki.issue('vendor', vendorCa, '/CN=portal.vendor.example', { sans: 'DNS:portal.vendor.example' });
    const mitmCa = pki.ca('mitm-ca', '/O=Corp/CN=Corp Inspection CA');
    resigned = pki.issue('resigned', mitmCa, '/CN=portal.vendor.example', { sans: 'DNS:portal.vendor.example' });
  });

  /** A TLS server on 127.0.0.1 and 127.0.0.2, same port, presenting the given chains. */
  async function pair(first: Issued, second: Issued): Promise<number> {
    const { createServer: createTls } = await import('node:tls');
    const chains = [first, second];
    let i = 0;
    return samePort(['127.0.0.1', '127.0.0.2'], () => {
      const c = chains[i++]!;
      const s = createTls({ key: c.keyPem, cert: c.pem }, (sock) => {
        sock.on('error', () => undefined);
        sock.end();
      });
      s.on('tlsClientError', () => undefined);
      return s as unknown as Server;
    });
  }

  const line = (port: number): string =>
    writeCatalog([{ id: 'portal', targets: ['127.0.0.0/30'], ports: [port], checks: `[{ kind: tcp }, { kind: tls, interceptionOnly: true, ca: "${caFile}" }]`, extra: '        sample: { count: 2 }\n' }]);

  it('one sampled address re-signs the TLS: the line is not a pass, and the advice is about TLS inspection', async () => {
    const port = await pair(vendor, resigned);
    const r = await run(['run', '--catalog', line(port), '--no-control', '--json', '--timeout', '2s']);
    const rep = report(r.stdout);
    const tls = rep.probes.filter((p) => p.kind === 'tls');
    expect(tls.map((p) => [p.host, p.reason]).sort()).toEqual([
      ['127.0.0.1', 'TLS_NOT_INTERCEPTED'],
      ['127.0.0.2', 'TLS_INTERCEPTED'],
    ]);
    const l = rep.lines[0]!;
    // Before issue 10 a sampled line passed on any answer: "3 of 4 sampled probes answered".
    expect(l.verdict).toBe('partial');
    expect(l.remediation).toContain(`TLS to 127.0.0.2:${port} is intercepted`);
    expect(l.remediation).not.toMatch(/Allow outbound/);
    expect(r.code).toBe(1);
  });

  it('the vendor certificate on both, not naming the bare address: a pass (interception judged, not the name)', async () => {
    const port = await pair(vendor, vendor);
    const r = await run(['run', '--catalog', line(port), '--no-control', '--json', '--timeout', '2s']);
    const rep = report(r.stdout);
    expect(rep.probes.filter((p) => p.kind === 'tls').map((p) => p.reason)).toEqual(['TLS_NOT_INTERCEPTED', 'TLS_NOT_INTERCEPTED']);
    expect(rep.probes.find((p) => p.kind === 'tls')!.detail).toContain('does not name this address');
    expect(rep.lines[0]!.verdict).toBe('pass');
    expect(r.code).toBe(0);
  });
});

describe('"no outbound connectivity" only on evidence', () => {
  it('UDP silence from three destinations is open|filtered, not a dead network: no finding, exit 3', async () => {
    const sockets: UdpSocket[] = [];
    let port = 0;
    // A bound socket that never answers: silence without ICMP, on three loopback addresses.
    for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
      const s = createSocket('udp4');
      s.on('error', () => undefined);
      await new Promise<void>((resolve) => s.bind(port, host, () => resolve()));
      port = s.address().port;
      sockets.push(s);
    }
    closers.push(async () => sockets.forEach((s) => s.close()));
    const file = writeCatalog(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((h, i) => ({ id: `data-${i}`, targets: [h], ports: [port], checks: '[{ kind: udp }]' })));
    const r = await run(['run', '--catalog', file, '--no-control', '--json', '--timeout', '500ms', '--udp-recheck', '0s']);
    const rep = report(r.stdout);
    expect(rep.probes.map((p) => p.status)).toEqual(['open|filtered', 'open|filtered', 'open|filtered']);
    expect(rep.diagnoses.map((d) => d.code)).toEqual([]);
    expect(r.code).toBe(3);
  });

  it('running out of file descriptors (ulimit -n) is this host failing, not the network', async () => {
    // A real fd limit: the sweep's sockets beyond it fail with EMFILE; the rest are refused.
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      execFile('sh', ['-c', `ulimit -n 64 && exec "$0" "$@"`, process.execPath, `${ROOT}bin/netcheck.js`, 'probe', 'tcp', '127.0.0.1:1-300', '--json', '--no-control', '--quiet', '--concurrency', '300', '--per-host', '300'], { env: cliEnv(), maxBuffer: 64 << 20 }, (err, stdout) => {
        if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout });
      });
    });
    const rep = report(r.stdout);
    // The host ran out (issue 11 lowers the concurrency and re-sends, and says so): a finding about
    // this machine, never one about the network.
    expect(rep.diagnoses.map((d) => d.code)).toContain('FD_EXHAUSTED');
    expect(rep.diagnoses.map((d) => d.code)).not.toContain('NO_OUTBOUND_CONNECTIVITY');
  });
});

const DNSMASQ = needTools('NXDOMAIN tests (a real dnsmasq answers)', ['dnsmasq'])?.dnsmasq;
describe.skipIf(!DNSMASQ)('names that do not resolve point at DNS', () => {
  let dns: Closeable;
  beforeAll(async () => {
    dns = await startDnsmasq(DNSMASQ!, { 'gone.lab.test': [] });
    closers.push(() => dns.close());
  });

  it('TCP probes to an NXDOMAIN name: reason NXDOMAIN, advice names the resolver, no TCP advice, no connectivity finding', async () => {
    const file = writeCatalog([{ id: 'maps', targets: ['gone.lab.test'], ports: [80, 443], checks: '[{ kind: dns }, { kind: tcp }]' }]);
    const r = await run(['run', '--catalog', file, '--no-control', '--json', '--timeout', '1s', '--dns-server', `127.0.0.1:${dns.port}`]);
    const rep = report(r.stdout);
    const tcp = rep.probes.filter((p) => p.kind === 'tcp');
    expect(tcp.map((p) => [p.status, p.reason])).toEqual([
      ['error', 'NXDOMAIN'],
      ['error', 'NXDOMAIN'],
    ]);
    const l = rep.lines[0]!;
    expect(l.verdict).toBe('fail');
    expect(l.remediation).toContain('gone.lab.test (NXDOMAIN) does not resolve');
    expect(l.remediation).toContain(`--dns-server (127.0.0.1:${dns.port})`);
    // Before issue 10: "Check outbound TCP 80,443 to gone.lab.test …: the probe failed locally".
    expect(l.remediation).not.toMatch(/outbound TCP|failed locally/);
    expect(rep.diagnoses.map((d) => d.code)).toEqual([]);
    expect(r.code).toBe(1);
  });
});

describe('the stun kind is UDP in its advice', () => {
  it('a closed UDP port answers ICMP port unreachable: "Allow outbound UDP …", not TCP', async () => {
    const port = await closedUdpPort();
    const r = await run(['probe', 'stun', `127.0.0.1:${port}`, '--json', '--no-control', '--timeout', '1s']);
    const rep = report(r.stdout);
    expect([rep.probes[0]!.status, rep.probes[0]!.reason]).toEqual(['refused', 'ECONNREFUSED']);
    const rem = rep.lines[0]!.remediation!;
    expect(rem).toContain(`Allow outbound UDP ${port} to 127.0.0.1`);
    expect(rem).toContain('ICMP port unreachable');
    expect(rem).not.toContain('TCP');
  });
});

describe('--only narrows the run, not the verdicts', () => {
  it('lines left out are "not run" (not inconclusive, not counted) and the exit code is that of what ran', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (m, ri) => echo.send(m, ri.port, ri.address));
    await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
    closers.push(async () => echo.close());
    const closed = await closedTcpPort();
    const file = writeCatalog([
      { id: 'signaling', targets: ['127.0.0.1'], ports: [closed], checks: '[{ kind: tcp }]' },
      { id: 'data', targets: ['127.0.0.1'], ports: [echo.address().port], checks: '[{ kind: udp }]' },
    ]);
    const r = await run(['run', '--catalog', file, '--only', 'udp', '--no-control', '--json', '--timeout', '1s']);
    const rep = report(r.stdout);
    expect(rep.lines.map((l) => [l.id, l.verdict])).toEqual([['data', 'pass']]);
    expect(rep.notRun).toEqual([{ id: 'signaling', reason: 'not run: --only udp leaves out its tcp check' }]);
    expect(rep.summary.verdicts).toEqual({ pass: 1, fail: 0, partial: 0, inconclusive: 0 });
    // Before issue 10: the signaling line was inconclusive and the run exited 3.
    expect(r.code).toBe(0);
    const text = await run(['run', '--catalog', file, '--only', 'udp', '--no-control', '--timeout', '1s']);
    expect(text.stdout).toContain('Not run (left out by --only; not counted):');
    expect(text.stdout).toContain('signaling: not run: --only udp leaves out its tcp check');
    expect(text.stdout).not.toContain('INCONCLUSIVE');
  });
});

describe('plan shows every packet the run sends, the interception control included', () => {
  it('text and JSON list the control probe; --control moves it; --no-control removes it', async () => {
    const file = writeCatalog([{ id: 'web', targets: ['192.0.2.10'], ports: [443], checks: '[{ kind: tcp }]' }]);
    const text = await run(['plan', file]);
    expect(text.stdout).toContain('and 1 control probe');
    expect(text.stdout).toMatch(/\ncontrol — interception control[^\n]*\n {2}tcp {3}203\.0\.113\.1:443\n/);
    const rows = JSON.parse((await run(['plan', file, '--json'])).stdout) as { id: string; kind: string; host: string; port: number }[];
    expect(rows.map((x) => `${x.id} ${x.kind} ${x.host}:${x.port}`)).toEqual(['web/tcp/192.0.2.10:443 tcp 192.0.2.10:443', 'control tcp 203.0.113.1:443']);
    const moved = JSON.parse((await run(['plan', file, '--json', '--control', '198.51.100.9:8443'])).stdout) as { id: string; host: string; port: number }[];
    expect(moved.at(-1)).toMatchObject({ id: 'control', host: '198.51.100.9', port: 8443 });
    const none = JSON.parse((await run(['plan', file, '--json', '--no-control'])).stdout) as { id: string }[];
    expect(none.map((x) => x.id)).toEqual(['web/tcp/192.0.2.10:443']);
  });
});

describe('reason codes are stable and documented', () => {
  /** A peer that greets in something other than HTTP (an SSH banner), as a wrong service on the port would. */
  const garbage = { port: 0 };
  beforeAll(async () => {
    const s = createServer((c) => {
      c.on('error', () => undefined);
      c.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
    });
    const close = closer(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    garbage.port = (s.address() as AddressInfo).port;
    closers.push(close);
  });

  it.each([
    ['http', () => `127.0.0.1:${garbage.port}`],
    ['ocsp', () => `http://127.0.0.1:${garbage.port}/`],
    ['crl', () => `http://127.0.0.1:${garbage.port}/ca.crl`],
    ['ws-hold', () => `127.0.0.1:${garbage.port}`],
  ])('a peer that does not speak HTTP is HTTP_NOT_HTTP for %s, never a parser code', async (kind, target) => {
    const extra = kind === 'ws-hold' ? ['--hold', '1s'] : [];
    const r = await run(['probe', kind, target(), '--json', '--no-control', '--timeout', '2s', ...extra]);
    const p = report(r.stdout).probes[0]!;
    expect(p.reason).toBe('HTTP_NOT_HTTP');
    expect(p.detail).toMatch(/HPE_/);
  });

  it('a code no table knows never reaches a report: UNCLASSIFIED, the original kept', async () => {
    const { loadCatalog } = await import('../../src/catalog/builtin.js');
    const { expandCatalog } = await import('../../src/catalog/expand.js');
    const { buildReport } = await import('../../src/report/build.js');
    const plan = expandCatalog(loadCatalog(writeCatalog([{ id: 'web', targets: ['192.0.2.10'], ports: [443], checks: '[{ kind: tcp }]' }])), { params: {} });
    const t = new Date();
    const rep = buildReport({
      plan,
      results: [{ id: plan.probes[0]!.id, line: 'web', kind: 'tcp', host: '192.0.2.10', port: 443, status: 'error', reason: 'ERR_SOMETHING_NEW', detail: 'a new failure', startedAt: t.toISOString(), durationMs: 1, attempts: 1 }],
      startedAt: t,
      finishedAt: t,
      interrupted: false,
      version: 'test',
    });
    expect([rep.probes[0]!.reason, rep.probes[0]!.data?.rawReason, rep.probes[0]!.detail]).toEqual(['UNCLASSIFIED', 'ERR_SOMETHING_NEW', 'a new failure (code ERR_SOMETHING_NEW)']);
  });

  it('every reason code is in the README, and every code the source names is a registered one', () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const missing = Object.keys(REASONS).filter((code) => !readme.includes(`\`${code}\``));
    expect(missing).toEqual([]);
    // Literal reasons in the probers, the trust stack and the engine (reason: 'X' / reason = 'X' / because('X')).
    const src = execFileSync('grep', ['-rhoE', "(reason(:|\\s*=)\\s*|because\\()'[A-Z][A-Z0-9_]+'", 'src/probers', 'src/net', 'src/trust', 'src/util', 'src/engine', 'src/path', 'src/media'], { cwd: ROOT, encoding: 'utf8' });
    const named = [...new Set(src.split('\n').map((l) => /'([A-Z0-9_]+)'/.exec(l)?.[1]).filter((x): x is string => !!x))];
    expect(named.length).toBeGreaterThan(50);
    expect(named.filter((c) => !(c in REASONS))).toEqual([]);
  });
});
