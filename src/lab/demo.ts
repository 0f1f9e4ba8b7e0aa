/**
 * `netcheck demo`: a real report in seconds without touching anyone's network. It builds a lab,
 * stages every behaviour a firewall document check can meet, runs the full check against an
 * ESChat-shaped catalog, and then checks itself: each staged endpoint must show the status it was
 * staged for.
 *
 * - As root with `ip` and `nft`: three network namespaces with a real stateful nftables firewall
 *   (src/lab/netns.ts). Every status appears, including `filtered` (drop) and `unreachable`
 *   (ICMP admin-prohibited), and the probes run from the client namespace.
 * - Otherwise: servers on loopback. A firewall's silence and ICMP cannot be staged there, so those
 *   lines are left out and the demo says so.
 *
 * Both show voice quality through a netcheck reflector (issue 17): a clean UDP port, and (with the
 * firewall) one where a fifth of the datagrams towards the server are dropped, which the report
 * must place on the way up. With the firewall, failed lines are also traced (where they stop).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { parseCatalog } from '../catalog/load.js';
import { expandCatalog } from '../catalog/expand.js';
import type { Plan } from '../catalog/expand.js';
import type { CheckOptions } from '../engine/check.js';
import { EXIT } from '../errors.js';
import type { Report, Status } from '../types.js';
import { DNSD_JS, startDnsd } from './dnsd.js';
import { createLab, labSupport, statefulRuleset, type Lab } from './netns.js';
import { SERVE_JS, serve, waitReady } from './serve.js';
import { LAB_DNSD_COMMAND, LAB_SERVE_COMMAND, bundleSelf } from '../platform/embedded.js';
import { startReflector } from '../reflector/server.js';

interface Ports {
  open: number[];
  reset?: number;
  drop?: number;
  prohibited?: number;
  httpOk: number;
  httpHang: number;
  udpEcho: number[];
  udpClosed: number[];
  udpDropped: number[];
  dns: number;
  /** Reflector UDP ports: a clean one, and (firewall only) one that loses a fifth of what is sent up. */
  voice: number;
  voiceLossy?: number;
}

/** What each demo line was staged to show, for the self-check. */
const STAGED: Record<string, Status> = {
  provisioning: 'ok',
  signaling: 'refused',
  push: 'filtered',
  'admin-portal': 'unreachable',
  'data-primary': 'ok',
  'data-closed': 'refused',
  'data-dropped': 'open|filtered',
  'web-portal': 'ok',
  'web-api': 'timeout',
  'maps-dns': 'ok',
  'retired-dns': 'error',
  vanity: 'skipped',
  voice: 'ok',
  'voice-lossy': 'filtered',
};

/** Datagrams dropped on the way up on the lossy voice port (percent). */
const LOSSY_PCT = 20;

function q(s: string): string {
  return JSON.stringify(s);
}

/** The demo catalog: ESChat-shaped, pointing at the lab's addresses and ports. */
export function demoCatalogYaml(server: string, p: Ports, firewall: boolean): string {
  const line = (id: string, description: string, targets: string[], ports: number[] | undefined, checks: string, extra = ''): string =>
    `      - id: ${id}
        description: ${q(description)}
        targets: [${targets.map(q).join(', ')}]
${ports ? `        ports: [${ports.join(', ')}]\n` : ''}        checks: ${checks}
${extra}`;
  const sections: string[] = [];
  const section = (id: string, name: string, lines: string[]): void => {
    sections.push(`  - id: ${id}\n    name: ${q(name)}\n    lines:\n${lines.join('')}`);
  };
  section('servers', 'Provisioning and signaling (TCP)', [
    line('provisioning', 'Provisioning server: open TCP ports', [server], p.open, '[{ kind: tcp }]', '        role: primary\n'),
    ...(firewall
      ? [
          line('signaling', 'Signaling port: the firewall answers with a TCP reset', [server], [p.reset!], '[{ kind: tcp }]'),
          line('push', 'Push port: the firewall drops it silently', [server], [p.drop!], '[{ kind: tcp }]'),
          line('admin-portal', 'Admin portal: the firewall rejects with ICMP admin-prohibited', [server], [p.prohibited!], '[{ kind: tcp }]'),
        ]
      : [line('signaling', 'Signaling port: nothing listens, so the host resets', [server], [p.reset!], '[{ kind: tcp }]')]),
  ]);
  section('data', 'Data ports (UDP)', [
    line('data-primary', 'Data server: UDP echo answers', [server], p.udpEcho, '[{ kind: udp }]', '        role: primary\n'),
    line('data-closed', 'Data server: closed UDP ports (ICMP port unreachable)', [server], p.udpClosed, '[{ kind: udp }]', '        role: disaster-recovery\n'),
    line('data-dropped', 'Data server: UDP silence (no reply, no ICMP)', [server], p.udpDropped, '[{ kind: udp }]', '        role: disaster-recovery\n'),
  ]);
  section('web', 'Web portal (HTTP)', [
    line('web-portal', 'Web portal answers HTTP', [server], [p.httpOk], '[{ kind: http, path: /, expectStatus: [200] }]'),
    line('web-api', 'Web API accepts, then never answers', [server], [p.httpHang], '[{ kind: http }]'),
  ]);
  // Short streams keep the demo quick; 100 datagrams make a 20 % loss unmistakable.
  const media = '[{ kind: media, duration: 2s }]';
  section('voice', 'Voice (UDP media through a netcheck reflector)', [
    line('voice', 'Voice on a clean UDP port', [server], [p.voice], media),
    ...(firewall && p.voiceLossy ? [line('voice-lossy', `Voice on a UDP port that loses ${LOSSY_PCT}% on the way up`, [server], [p.voiceLossy], media)] : []),
  ]);
  section('names', 'Names (DNS)', [
    line('maps-dns', 'Map tiles host resolves', ['maps.demo.test'], undefined, '[{ kind: dns, types: [A] }]'),
    line('retired-dns', 'A retired host name (NXDOMAIN)', ['retired.demo.test'], undefined, '[{ kind: dns, types: [A] }]', '        required: false\n'),
    line('vanity', 'Your vanity domains (optional parameter, not given)', ['$vanity-domains'], [443], '[{ kind: tcp }]', '        required: false\n'),
  ]);
  return `schema: netcheck/catalog/v1
id: demo
title: ${q(`netcheck demo lab (${firewall ? 'network namespaces + real nftables firewall' : 'loopback, no firewall'})`)}
source: built-in demo lab
parameters:
  vanity-domains:
    type: hosts
    description: your vanity URL domains
timers:
  - id: tcp-registration
    protocol: tcp
    seconds: 720
    description: a TCP flow must survive 12 minutes idle (as in the ESChat document)
    source: built-in demo lab
sections:
${sections.join('')}`;
}

/** Compare what the lab staged with what the report says. */
export function selfCheck(report: Report, firewall: boolean): string[] {
  const problems: string[] = [];
  for (const [line, status] of Object.entries(STAGED)) {
    if (!firewall && (status === 'filtered' || status === 'unreachable')) continue;
    const l = report.lines.find((x) => x.id === line);
    if (!l) {
      problems.push(`${line}: missing from the report`);
      continue;
    }
    const seen = report.probes.filter((p) => p.line === line).map((p) => p.status);
    if (seen.length === 0 || seen.some((s) => s !== status)) problems.push(`${line}: staged ${status}, saw ${[...new Set(seen)].join(', ') || 'nothing'}`);
  }
  return problems;
}

/**
 * argv prefixes that start netcheck's CLI and lab servers in a child process: node with the
 * package's scripts, or (in a single-file executable, where there is no node and no script) this
 * executable with a hidden command.
 */
function childArgv(): { cli: string[]; serve: string[]; dnsd: string[] } {
  const self = bundleSelf();
  if (self) return { cli: self, serve: [...self, LAB_SERVE_COMMAND], dnsd: [...self, LAB_DNSD_COMMAND] };
  return { cli: [process.execPath, fileURLToPath(new URL('../../bin/netcheck.js', import.meta.url))], serve: [process.execPath, SERVE_JS], dnsd: [process.execPath, DNSD_JS] };
}

/** Runs a plan of the demo with these options (the command adds progress and Ctrl-C handling). */
export type DemoRunner = (plan: Plan, opts: Pick<CheckOptions, 'dnsServers' | 'control'>) => Promise<Report>;

/** The loopback lab: local servers staging each behaviour loopback can show, checked by `run`. */
export async function loopbackDemo(o: { timeoutMs?: number; control?: string | false }, run: DemoRunner): Promise<Report> {
  const host = '127.0.0.1';
  const s = await serve({ host, tcp: [0, 0], tcpHang: [0], udp: [0, 0], http: [0] });
  const dns = await startDnsd({ host, records: { 'maps.demo.test': ['127.0.0.1'] } });
  // Closed ports: bind, learn the number, release.
  const closedTcp = await serve({ host, tcp: [0] });
  const closedUdp = await serve({ host, udp: [0, 0] });
  await closedTcp.close();
  await closedUdp.close();
  const silent = await serve({ host, udpSilent: [0, 0] });
  const reflector = await startReflector({ listen: host, udpPorts: [0] });
  try {
    const ports: Ports = {
      open: s.tcp,
      reset: closedTcp.tcp[0]!,
      httpOk: s.http[0]!,
      httpHang: s.tcpHang[0]!,
      udpEcho: s.udp,
      udpClosed: closedUdp.udp,
      udpDropped: silent.udpSilent,
      dns: dns.port,
      voice: reflector.udp[0]!,
    };
    const cat = parseCatalog(demoCatalogYaml(host, ports, false), 'demo (loopback)');
    const plan = expandCatalog(cat, { params: {}, timeoutMs: o.timeoutMs ?? 1500 });
    return await run(plan, {
      dnsServers: [`${host}:${dns.port}`],
      // A closed loopback port must not connect; if it does, something intercepts even loopback.
      control: o.control ?? `${host}:${closedTcp.tcp[0]}`,
    });
  } finally {
    await Promise.all([s.close(), dns.close(), silent.close(), reflector.close()]);
  }
}

/** The full lab: probes run from the client namespace through a real firewall. */
export async function netnsDemo(timeout: string, quiet: boolean): Promise<Report | undefined> {
  const P = { open: [80, 443], reset: 7400, drop: 5223, prohibited: 8443, httpOk: 8080, httpHang: 8081, udpEcho: [4201, 4202, 4203, 4204], udpClosed: [4205, 4206], udpDropped: [4207, 4208], dns: 53, voice: 4210, voiceLossy: 4211 };
  const ruleset = statefulRuleset(
    `
    tcp dport ${P.reset} reject with tcp reset
    tcp dport ${P.drop} drop
    tcp dport ${P.prohibited} reject with icmpx type admin-prohibited
    udp dport { ${P.udpDropped.join(', ')} } drop
  `,
    // Random loss on one direction of one port: before the established rule, so it hits every datagram.
    { forwardFirst: `udp dport ${P.voiceLossy} numgen random mod 100 < ${LOSSY_PCT} drop` },
  );
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-demo-'));
  let lab: Lab | undefined;
  try {
    lab = await createLab({ ruleset });
    const server = lab.addr.server;
    const self = childArgv();
    const srv = lab.spawn('server', [...self.serve, JSON.stringify({ host: server, tcp: [...P.open, P.reset, P.drop, P.prohibited], tcpHang: [P.httpHang], udp: P.udpEcho, http: [P.httpOk] })]);
    const dnsd = lab.spawn('server', [...self.dnsd, JSON.stringify({ host: server, port: P.dns, records: { 'maps.demo.test': [server] } })]);
    const refl = lab.spawn('server', [...self.cli, 'reflect', '--listen', server, '--udp', `${P.voice},${P.voiceLossy}`, '--json']);
    await Promise.all([waitReady(srv), waitReady(dnsd), waitReady(refl)]);
    const file = join(dir, 'demo.yaml');
    writeFileSync(file, demoCatalogYaml(server, P, true));
    if (!quiet) process.stderr.write(`netcheck demo: lab up — client ${lab.addr.client} → nftables firewall → server ${server} (namespaces ${Object.values(lab.names).join(', ')})\n`);
    // The run itself happens inside the client namespace, as it would on a user's machine.
    const child = spawn('ip', ['netns', 'exec', lab.names.client, ...self.cli, 'run', '--catalog', file, '--format', 'json', '--timeout', timeout, '--dns-server', `${server}:${P.dns}`, '--control', `${server}:${P.drop}`, ...(quiet ? ['--quiet'] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    // Ctrl-C reaches the child through the terminal's process group; forward SIGTERM ourselves.
    const fwd = (): void => void child.kill('SIGINT');
    process.on('SIGINT', fwd);
    process.on('SIGTERM', fwd);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    process.off('SIGINT', fwd);
    process.off('SIGTERM', fwd);
    if (!out.trim()) {
      if (code === EXIT.INTERRUPTED) return undefined;
      throw new Error(`the demo run in the client namespace produced no report (exit ${code})`);
    }
    return JSON.parse(out) as Report;
  } finally {
    await lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
