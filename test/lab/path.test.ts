/**
 * Where a line fails (issue 17), through real namespaces: the path of a failed line traced with
 * the OS traceroute, on the same protocol and port, through a lab with a router beyond the
 * firewall (client → firewall → router → server), so a drop inside the customer's network and one
 * beyond its egress read differently.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { PORTAL_LOGIN, waitReady, type ServeReady } from '../../src/lab/serve.js';
import { type TraceResult } from '../../src/path/trace.js';
import { needTools } from '../helpers/tools.js';
import type { Report } from '../../src/types.js';
import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab path tests: ${support.why}`);
const TRACEROUTE = support.ok ? needTools('lab trace tests', ['traceroute'])?.traceroute : undefined;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const SERVE = `${ROOT}dist/lab/serve.js`;
/** TLS server fixture (`tls HOST KEY CERT`: greets and closes), as the trust lab tests use it. */
const TRUST_FIXTURE = `${ROOT}test/helpers/serve-trust.mjs`;
const NODE = process.execPath;

async function cli(lab: Lab, args: string[], env: Record<string, string> = {}): Promise<{ report: Report; code: number | null; stderr: string; ms: number }> {
  const t0 = performance.now();
  const r = await lab.exec('client', ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), NODE, BIN, ...args], { timeoutMs: 60_000 });
  try {
    return { report: JSON.parse(r.stdout) as Report, code: r.code, stderr: r.stderr, ms: performance.now() - t0 };
  } catch {
    throw new Error(`netcheck ${args.join(' ')} did not print JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
}

const traceOf = (report: Report, line: string): TraceResult | undefined =>
  report.probes.filter((p) => p.line === line).map((p) => p.data?.trace as TraceResult | undefined).find(Boolean);

describe.skipIf(!support.ok || !TRACEROUTE)('lab: where a failed line stops (traceroute through client → firewall → router → server)', () => {
  let lab: Lab;
  let srv: ServeReady;
  let dir: string;
  let catalog: string;
  const DROPPED_TCP = 5223;

  beforeAll(async () => {
    lab = await createLab({ router: true, ruleset: statefulRuleset() });
    srv = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, tcp: [0, DROPPED_TCP], udp: [0] })]));
    dir = mkdtempSync(join(tmpdir(), 'netcheck-path-'));
    catalog = join(dir, 'path.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1
id: path-lab
title: Path lab
source: test/lab/path.test.ts
sections:
  - id: s
    name: Lines
    lines:
      - id: open
        description: An open TCP port
        targets: [${lab.addr.server}]
        ports: [${srv.tcp[0]}]
        checks: [{ kind: tcp }]
      - id: push
        description: Push notifications
        targets: [${lab.addr.server}]
        ports: [${DROPPED_TCP}]
        checks: [{ kind: tcp }]
      - id: media
        description: Media over UDP
        targets: [${lab.addr.server}]
        ports: [${srv.udp[0]}]
        checks: [{ kind: udp }]
`,
    );
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: string[] = [], env: Record<string, string> = {}) => cli(lab, ['run', '--catalog', catalog, '--no-control', '--timeout', '500ms', '--json', '--quiet', ...extra], env);

  it('a drop in the customer firewall: "dropped after hop 1 (10.200.1.1, inside your network)", with the tool named', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${DROPPED_TCP} drop`));
    await lab.nft('', 'router');
    const { report, code, ms } = await run();
    expect(code).toBe(1);
    const push = report.lines.find((l) => l.id === 'push')!;
    expect(push.verdict).toBe('fail');
    const t = traceOf(report, 'push')!;
    expect(t).toMatchObject({ traced: true, protocol: 'tcp', port: DROPPED_TCP, tool: `traceroute -T -p ${DROPPED_TCP}`, reached: false });
    expect(t.lastHop).toEqual({ ttl: 1, address: '10.200.1.1', place: 'inside' });
    expect(push.reason).toContain('dropped after hop 1 (10.200.1.1, inside your network)');
    expect(push.remediation).toContain('stops inside your network, after hop 1 (10.200.1.1)');
    // The lines that pass are not traced.
    expect(traceOf(report, 'open')).toBeUndefined();
    expect(traceOf(report, 'media')).toBeUndefined();
    console.info(`trace run: ${Math.round(ms)} ms wall (0.5 s probe timeout + one trace)`);
  });

  it('a drop beyond the egress (in the router): the last answering hop is the public one', async () => {
    await lab.nft(statefulRuleset());
    await lab.nft(`table inet r {\n chain forward {\n type filter hook forward priority filter;\n udp dport ${srv.udp[0]} drop\n }\n}`, 'router');
    const { report } = await run();
    const media = report.lines.find((l) => l.id === 'media')!;
    expect(media.verdict).toBe('inconclusive');
    const t = traceOf(report, 'media')!;
    expect(t).toMatchObject({ traced: true, protocol: 'udp', tool: `traceroute -U -p ${srv.udp[0]}`, reached: false });
    expect(t.hops.slice(0, 2).map((h) => h.address)).toEqual(['10.200.1.1', '192.0.2.1']);
    expect(t.lastHop).toEqual({ ttl: 2, address: '192.0.2.1', place: 'beyond' });
    expect(media.reason).toContain("after hop 2 (192.0.2.1, beyond your network's egress)");
    expect(media.remediation).toContain('leaves your network and stops after hop 2 (192.0.2.1)');
  });

  it('a firewall that drops everything: one trace says where, not one per line', async () => {
    await lab.nft(statefulRuleset('drop'));
    await lab.nft('', 'router');
    const { report } = await run();
    // One destination dropping everything is not "no outbound connectivity" (issue 10 needs three):
    // still, nothing got through, so one trace stands for every line.
    expect(report.probes.filter((p) => p.status === 'ok')).toEqual([]);
    const traces = report.probes.map((p) => p.data?.trace as TraceResult | undefined).filter(Boolean);
    expect(traces).toHaveLength(1);
    expect(traces[0]!.lastHop).toEqual({ ttl: 1, address: '10.200.1.1', place: 'inside' });
  });

  it('--no-trace: failed lines are reported without a trace', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${DROPPED_TCP} drop`));
    await lab.nft('', 'router');
    const { report } = await run(['--no-trace']);
    expect(report.lines.find((l) => l.id === 'push')!.verdict).toBe('fail');
    expect(traceOf(report, 'push')).toBeUndefined();
  });

  it('no traceroute on this host: the line still fails as measured, and the reason says it was not traced', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${DROPPED_TCP} drop`));
    const { report, code } = await run([], { NETCHECK_TRACEROUTE: '/nonexistent/traceroute' });
    expect(code).toBe(1);
    const push = report.lines.find((l) => l.id === 'push')!;
    expect(push.verdict).toBe('fail');
    expect(report.probes.find((p) => p.line === 'push')!.status).toBe('filtered');
    expect(traceOf(report, 'push')).toMatchObject({ traced: false });
    expect(push.reason).toContain('not traced: no traceroute found');
  });

  it('sweeps are not traced unless asked (--trace)', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${DROPPED_TCP} drop`));
    const target = `${lab.addr.server}:${DROPPED_TCP}`;
    const plain = await cli(lab, ['probe', 'tcp', target, '--json', '--no-control', '--timeout', '500ms']);
    expect(plain.report.probes[0]!.status).toBe('filtered');
    expect(plain.report.probes[0]!.data?.trace).toBeUndefined();
    const traced = await cli(lab, ['probe', 'tcp', target, '--json', '--no-control', '--timeout', '500ms', '--trace']);
    expect((traced.report.probes[0]!.data?.trace as TraceResult).lastHop?.address).toBe('10.200.1.1');
  });
});

interface ReflectorReady {
  ready: true;
  tcp: number[];
  udp: number[];
}

/** Start `netcheck reflect --json` in the server namespace; its startup line is JSON with the bound ports. */
async function startReflector(lab: Lab, args: string[]): Promise<ReflectorReady> {
  return (await waitReady(lab.spawn('server', [NODE, BIN, 'reflect', '--json', ...args]))) as unknown as ReflectorReady;
}

describe.skipIf(!support.ok)('lab: a path-MTU black hole (MTU 1280 towards the client, ICMP "fragmentation needed" dropped)', () => {
  let lab: Lab;
  let srv: ServeReady;
  let refl: ReflectorReady;
  let dir: string;
  let catalog: string;
  /** The firewall's ruleset: ICMP frag-needed dropped both when forwarded and when the firewall itself sends it. */
  const blackhole = statefulRuleset('', {
    forwardFirst: 'icmp type destination-unreachable icmp code frag-needed drop',
    output: 'icmp type destination-unreachable icmp code frag-needed drop',
  });

  beforeAll(async () => {
    lab = await createLab({ ruleset: blackhole });
    // The way back to the client carries at most 1280 bytes, and the firewall will not say so.
    const route = await lab.exec('firewall', ['ip', 'route', 'replace', '10.200.1.0/24', 'dev', 'fc', 'mtu', 'lock', '1280']);
    expect(route.code).toBe(0);
    srv = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, http: [0] })]));
    refl = await startReflector(lab, ['--listen', lab.addr.server, '--tcp', '0', '--udp', '0']);
    dir = mkdtempSync(join(tmpdir(), 'netcheck-pmtu-'));
    // A certificate with many names: the server's first TLS flight then needs full-size packets.
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    const sans = ['IP:' + lab.addr.server, ...Array.from({ length: 40 }, (_, i) => `DNS:host-${i}.a-rather-long-name.vendor.example`)].join(',');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=vendor.example', '-addext', `subjectAltName=${sans}`], { stdio: 'ignore' });
    const tls = (await waitReady(lab.spawn('server', [NODE, TRUST_FIXTURE, 'tls', lab.addr.server, key, cert]))) as unknown as { port: number };
    catalog = join(dir, 'pmtu.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1
id: pmtu-lab
title: PMTU lab
source: test/lab/path.test.ts
sections:
  - id: s
    name: Web
    lines:
      - id: portal
        description: Vendor web portal
        targets: [${lab.addr.server}]
        ports: [${srv.http[0]}]
        checks: [{ kind: http, path: /big/20000 }]
      - id: api
        description: Vendor TLS endpoint
        targets: [${lab.addr.server}]
        ports: [${tls.port}]
        checks: [{ kind: tls, ca: ${JSON.stringify(cert)} }]
`,
    );
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: string[]) => cli(lab, ['run', '--catalog', catalog, '--no-control', '--no-trace', '--timeout', '1s', '--json', '--quiet', ...extra]);
  const withReflector = (): string[] => ['--reflector', lab.addr.server, '--reflector-udp-port', String(refl.udp[0]), '--reflector-tcp-port', String(refl.tcp[0])];

  it('with the reflector: PMTU_BLACKHOLE, the largest size that passed (1280), and the remediation', async () => {
    await lab.nft(blackhole);
    const { report, code, ms } = await run(withReflector());
    expect(code).toBe(1);
    const p = report.probes[0]!;
    expect(p.status).toBe('timeout');
    expect(p.reason).toBe('PMTU_BLACKHOLE');
    expect(p.data?.pmtu).toMatchObject({ blackhole: true, largestPassedBytes: 1280, smallestLostBytes: 1300, smallRequest: { answered: true } });
    // A TLS handshake that stalls on the server's first flight: the same black hole (no small request possible).
    const t = report.probes.find((x) => x.line === 'api')!;
    expect([t.status, t.reason]).toEqual(['timeout', 'PMTU_BLACKHOLE']);
    expect(t.data?.pmtu).toMatchObject({ blackhole: true, largestPassedBytes: 1280, methods: ['udp-echo'] });
    const api = report.lines.find((l) => l.id === 'api')!;
    expect(api.remediation).toContain('a path-MTU black hole');
    expect(api.remediation).not.toContain('proxy, DPI or IPS');
    const line = report.lines[0]!;
    expect(line.remediation).toContain('packets larger than 1280 bytes never arrive');
    expect(line.remediation).toContain('fragmentation needed');
    expect(line.remediation).toContain('clamp the TCP MSS to 1240');
    expect(line.remediation).not.toContain('proxy, DPI or IPS');
    // The fix list: ICMP and MSS, not a port rule, and not "stalled connections".
    expect(report.fixList?.rules).toEqual([]);
    expect([...new Set(report.fixList?.instructions.map((i) => i.code))]).toEqual(['PATH_MTU']);
    expect(report.fixList?.instructions[0]!.text).toContain('fragmentation needed');
    console.info(`PMTU run: ${Math.round(ms)} ms wall (1 s stall + HEAD + 3 rounds of sized echoes)`);
  });

  it('without a reflector: still the stall it was, with the small request as a hint (no size claimed)', async () => {
    await lab.nft(blackhole);
    const { report } = await run([]);
    const p = report.probes[0]!;
    expect(p.reason).toBe('HTTP_HEADERS_TIMEOUT');
    expect(p.detail).toContain('possibly a path-MTU black hole');
    expect(report.probes.find((x) => x.line === 'api')!.reason).toBe('TLS_HANDSHAKE_TIMEOUT');
  });

  it('the same path with ICMP "fragmentation needed" allowed: path-MTU discovery works and the line passes', async () => {
    await lab.nft(statefulRuleset());
    const { report, code } = await run(withReflector());
    expect(report.probes.map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(code).toBe(0);
  });
});

describe.skipIf(!support.ok)('lab: a captive portal in the firewall (every web request redirected to a login page)', () => {
  let lab: Lab;
  let srv: ServeReady;
  let refl: ReflectorReady;
  let portal: number;
  let dir: string;
  let catalog: string;

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    srv = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, http: [0], tcp: [0] })]));
    refl = await startReflector(lab, ['--listen', lab.addr.server, '--tcp', '0', '--udp', '0']);
    // The portal runs on the firewall itself, as on a hotel or guest network.
    portal = (await waitReady(lab.spawn('firewall', [NODE, SERVE, JSON.stringify({ host: '0.0.0.0', portal: [0] })]))).portal[0]!;
    dir = mkdtempSync(join(tmpdir(), 'netcheck-portal-'));
    catalog = join(dir, 'portal.yaml');
    writeFileSync(catalog, `schema: netcheck/catalog/v1\nid: portal-lab\ntitle: Portal lab\nsource: test/lab/path.test.ts\nsections:\n  - id: s\n    name: S\n    lines:\n      - id: signaling\n        description: Signaling\n        targets: [${lab.addr.server}]\n        ports: [${srv.tcp[0]}]\n        checks: [{ kind: tcp }]\n`);
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Redirect these TCP ports from the client side to the portal. */
  const redirect = (ports: number[]): string =>
    statefulRuleset('', { prerouting: `iifname "fc" tcp dport { ${ports.join(', ')} } redirect to :${portal}`, input: `iifname "fc" tcp dport ${portal} accept` });
  const known = (): string[] => ['--portal-url', `http://${lab.addr.server}:${srv.http[0]}/status/204`, '--portal-expect', '204'];
  const run = (extra: string[]) => cli(lab, ['run', '--catalog', catalog, '--no-control', '--timeout', '1s', '--json', '--quiet', ...extra]);

  it('a known-answer URL answered by the portal: CAPTIVE_PORTAL, naming the login page', async () => {
    await lab.nft(redirect([srv.http[0]!]));
    const { report } = await run(known());
    const d = report.diagnoses.find((x) => x.code === 'CAPTIVE_PORTAL');
    expect(d?.severity).toBe('critical');
    expect(d?.message).toContain('should answer HTTP 204 but was answered by someone else with HTTP 302');
    expect(d?.message).toContain(PORTAL_LOGIN);
  });

  it('the reflector, whose TCP port echoes every byte, answered with HTTP by the portal: CAPTIVE_PORTAL', async () => {
    await lab.nft(redirect([refl.tcp[0]!]));
    const { report } = await run(['--reflector', lab.addr.server, '--reflector-tcp-port', String(refl.tcp[0]), '--reflector-udp-port', String(refl.udp[0])]);
    const d = report.diagnoses.find((x) => x.code === 'CAPTIVE_PORTAL');
    expect(d?.message).toContain(`reflector ${lab.addr.server}:${refl.tcp[0]}`);
    expect(d?.message).toContain('HTTP/1.1 302');
    expect(d?.message).toContain(PORTAL_LOGIN);
  });

  it('no portal: the known answer and the echo come back as they should, no finding', async () => {
    await lab.nft(statefulRuleset());
    const { report, code } = await run([...known(), '--reflector', lab.addr.server, '--reflector-tcp-port', String(refl.tcp[0]), '--reflector-udp-port', String(refl.udp[0])]);
    expect(report.diagnoses).toEqual([]);
    expect(code).toBe(0);
  });
});

const DNSMASQ = support.ok ? needTools('lab DNS interception tests', ['dnsmasq'])?.dnsmasq : undefined;

/** dnsmasq in the server namespace on port 53; resolves once it logs that it started. */
function startDnsmasq(lab: Lab, records: string[]): Promise<ChildProcess> {
  const child = lab.spawn('server', [DNSMASQ!, '--no-daemon', '--no-resolv', '--no-hosts', '--log-facility=-', '--listen-address', lab.addr.server, '--bind-interfaces', '--port', '53', '--pid-file=', ...records]);
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`dnsmasq did not start: ${err}`)), 10_000);
    child.stderr!.on('data', (d) => {
      err += d;
      if (/started/.test(err)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => reject(new Error(`dnsmasq exited (${code}): ${err}`)));
  });
}

describe.skipIf(!support.ok || !DNSMASQ)('lab: a resolver that answers for names that cannot exist (DNS interception)', () => {
  let lab: Lab;
  let dir: string;
  let catalog: string;
  let srv: ServeReady;
  const BLOCK_PAGE = '10.200.2.3';

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    // The filter's block page lives next to the vendor's server.
    expect((await lab.exec('server', ['ip', 'addr', 'add', `${BLOCK_PAGE}/24`, 'dev', 's0'])).code).toBe(0);
    srv = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: '0.0.0.0', tcp: [0] })]));
    dir = mkdtempSync(join(tmpdir(), 'netcheck-dnsx-'));
    catalog = join(dir, 'dns.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1
id: dns-lab
title: DNS lab
source: test/lab/path.test.ts
sections:
  - id: s
    name: Names
    lines:
      - id: app
        description: The vendor's app server
        targets: [app.vendor.test]
        ports: [${srv.tcp[0]}]
        checks: [{ kind: dns, types: [A] }, { kind: tcp }]
      - id: retired
        description: A host the vendor retired (does not exist)
        targets: [retired.vendor.test]
        ports: [${srv.tcp[0]}]
        checks: [{ kind: dns, types: [A] }, { kind: tcp }]
`,
    );
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = () => cli(lab, ['run', '--catalog', catalog, '--no-control', '--no-trace', '--timeout', '1s', '--dns-server', `${lab.addr.server}:53`, '--json', '--quiet']);

  it('a resolver that answers every name: DNS_INTERCEPTION, and what reached its address is not passed', async () => {
    const dns = await startDnsmasq(lab, [`--address=/app.vendor.test/${lab.addr.server}`, `--address=/#/${BLOCK_PAGE}`]);
    try {
      const { report } = await run();
      const d = report.diagnoses.find((x) => x.code === 'DNS_INTERCEPTION');
      expect(d?.message).toContain(`→ ${BLOCK_PAGE}`);
      const retired = report.probes.filter((p) => p.line === 'retired');
      expect(retired.map((p) => [p.kind, p.status, p.reason])).toEqual([
        ['dns', 'error', 'DNS_INTERCEPTED'],
        ['tcp', 'error', 'DNS_INTERCEPTED'],
      ]);
      expect(report.lines.find((l) => l.id === 'retired')!.verdict).toBe('fail');
      // The fix list says DNS interception for that line, never a port rule towards the block page.
      expect(report.fixList?.rules.filter((r) => r.line === 'retired')).toEqual([]);
      expect([...new Set(report.fixList?.instructions.filter((i) => i.line === 'retired').map((i) => i.code))]).toEqual(['DNS_INTERCEPTION']);
      // The vendor's real name resolves to its own address: untouched.
      expect(report.lines.find((l) => l.id === 'app')!.verdict).toBe('pass');
    } finally {
      dns.kill('SIGKILL');
    }
  });

  it('a resolver that answers NXDOMAIN for unknown names: no finding (the retired name fails as it should)', async () => {
    const dns = await startDnsmasq(lab, [`--address=/app.vendor.test/${lab.addr.server}`, '--address=/#/']);
    try {
      const { report } = await run();
      expect(report.diagnoses.map((d) => d.code)).not.toContain('DNS_INTERCEPTION');
      expect(report.probes.find((p) => p.line === 'retired' && p.kind === 'dns')!.reason).toBe('NXDOMAIN');
      expect(report.lines.find((l) => l.id === 'app')!.verdict).toBe('pass');
    } finally {
      dns.kill('SIGKILL');
    }
  });
});
