/**
 * The built-in ESChat catalog run for real — but only inside the lab (issue 10): the server
 * namespace holds every address the document names (its loopback carries the servers' addresses,
 * 17.0.0.0/8 is routed to it), the client namespace's only way out is the lab firewall, and the
 * Google names are answered by a dnsmasq in the server namespace (--dns-server). The namespaces
 * have no link to the root namespace, so no packet of this test can reach a real ESChat, Apple or
 * Google address. The firewall drops TCP 5223 (Apple APNS): the APNS line must fail on that port
 * while its TCP 80 answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { waitReady } from '../../src/lab/serve.js';
import type { LineResult, Report } from '../../src/types.js';
import { Pki } from '../helpers/pki.js';
import { needTools } from '../helpers/tools.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab verdict tests: ${support.why}`);
const DNSMASQ = support.ok ? needTools('lab verdict tests (dnsmasq answers the Google names in the lab)', ['dnsmasq'])?.dnsmasq : undefined;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const SERVERS = `${ROOT}test/fixtures/lab/eschat-servers.mjs`;
const NODE = process.execPath;

// Every address of the ESChat document (../shared/seeds/003_e6f92b867918c25f.txt, probes/eschat.yaml).
const PROVISIONING = ['54.215.171.160', '54.219.138.108', '52.61.94.106', '3.31.151.6', '3.31.160.231', '18.252.168.182', '18.253.93.42', '18.254.200.140', '35.153.48.78'];
const SIGNALING = ['3.97.31.75', '15.223.60.24'];
const DATA = ['3.140.60.106', '3.23.41.163', '18.221.84.42', '34.198.152.141', '34.199.159.184', '34.195.225.226', '35.174.119.55'];
const PORTAL = ['52.60.139.97', '3.98.4.177'];
/** Where the lab's dnsmasq sends the Google names. */
const GOOGLE_LAB = '10.200.3.1';
const DATA_PORTS = Array.from({ length: 64 }, (_, i) => 4201 + i);

async function must(lab: Lab, ns: 'client' | 'firewall' | 'server', argv: string[]): Promise<void> {
  const r = await lab.exec(ns, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${ns}: ${r.stderr}`);
}

async function netcheck(lab: Lab, args: string[]): Promise<{ report: Report; code: number | null; stderr: string }> {
  const r = await lab.exec('client', [NODE, BIN, ...args, '--json', '--quiet'], { timeoutMs: 60_000 });
  try {
    return { report: JSON.parse(r.stdout) as Report, code: r.code, stderr: r.stderr };
  } catch {
    throw new Error(`netcheck ${args.join(' ')} printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
}

describe.skipIf(!support.ok || !DNSMASQ)('lab: the ESChat catalog through a firewall that drops APNS 5223', () => {
  let lab: Lab;
  let pki: Pki;
  let tmp: string;

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset('tcp dport 5223 drop') });
    tmp = mkdtempSync(join(tmpdir(), 'nc-eschat-lab-'));
    // The document's addresses live on the server namespace's loopback; Apple's /8 is routed there.
    for (const a of [...PROVISIONING, ...SIGNALING, ...DATA, ...PORTAL, GOOGLE_LAB]) await must(lab, 'server', ['ip', 'addr', 'add', `${a}/32`, 'dev', 'lo']);
    await must(lab, 'server', ['ip', 'route', 'add', 'local', '17.0.0.0/8', 'dev', 'lo']);
    // The server namespace forwards nothing: a packet for an address it does not hold (the
    // interception control 203.0.113.1) dies there.
    await lab.sysctl('server', 'net.ipv4.ip_forward', '0');
    await must(lab, 'firewall', ['ip', 'route', 'add', 'default', 'via', lab.addr.server]);

    // A TLS server on 443 whose certificate comes from the lab's own CA: to the tls check this is
    // exactly what a middlebox re-signing ESChat's TLS looks like.
    pki = new Pki();
    const ca = pki.ca('lab-ca', '/O=netcheck lab/CN=netcheck lab root');
    const leaf = pki.issue('portal', ca, '/CN=portal.eschat.lab', { sans: 'DNS:portal.eschat.lab' });
    const spec = { tcp: [80, 5223, 7400], tls: { port: 443, key: leaf.key, cert: leaf.cert }, udp: [{ addrs: DATA, ports: DATA_PORTS }] };
    await waitReady(lab.spawn('server', [NODE, SERVERS, JSON.stringify(spec)]), 20_000);
    lab.spawn('server', [
      DNSMASQ!, '--no-daemon', '--no-resolv', '--no-hosts', `--listen-address=${lab.addr.server}`, '--bind-interfaces', '--port=53',
      `--pid-file=${join(tmp, 'dnsmasq.pid')}`, `--address=/maps.googleapis.com/${GOOGLE_LAB}`, `--address=/fonts.gstatic.com/${GOOGLE_LAB}`,
    ]);
    // Ready when it answers, asked from the client namespace through the firewall.
    for (let i = 0; ; i++) {
      const { report } = await netcheck(lab, ['probe', 'dns', 'maps.googleapis.com', '--type', 'A', '--dns-server', lab.addr.server, '--timeout', '500ms']);
      if (report.probes[0]?.reason === 'RESOLVED') break;
      if (i > 20) throw new Error(`the lab dnsmasq does not answer: ${JSON.stringify(report.probes[0])}`);
    }
  }, 120_000);
  afterAll(async () => {
    await lab?.destroy();
    pki?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const line = (report: Report, id: string): LineResult => report.lines.find((l) => l.id === id)!;
  const args = (): string[] => ['eschat', '--signaling-port', '7400', '--dns-server', lab.addr.server, '--timeout', '2s'];

  it('APNS fails on 5223 while its TCP 80 answers; every other line gets through (TLS aside)', async () => {
    const { report, code } = await netcheck(lab, [...args(), '--only', 'tcp,udp,dns']);
    const apns = line(report, 'apns');
    const probes = report.probes.filter((p) => p.line === 'apns');
    expect(probes.filter((p) => p.port === 80).map((p) => p.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(probes.filter((p) => p.port === 5223).map((p) => p.status)).toEqual(['filtered', 'filtered', 'filtered', 'filtered']);
    // Before issue 10: pass, "4 of 8 sampled probes answered", no remediation.
    expect(apns.verdict).toBe('partial');
    expect(apns.reason).toContain('TCP 5223: 4 filtered');
    expect(apns.remediation).toContain('Allow outbound TCP 5223 to 17.0.0.0/8 (Apple APNS push notifications, third party): connection attempts are silently dropped.');
    // And where (issue 17): the trace of TCP 5223 stops at the lab firewall, the first hop.
    expect(apns.remediation).toMatch(/The path of TCP 5223 to 17\.\S+ stops inside your network, after hop 1 \(10\.200\.1\.1\)/);
    for (const id of ['provisioning-primary', 'provisioning-dr', 'signaling', 'data-primary', 'data-dr', 'web-portal', 'google-maps', 'google-fonts']) {
      expect([id, line(report, id).verdict, line(report, id).reason]).toEqual([id, 'pass', expect.any(String)]);
    }
    expect(report.diagnoses).toEqual([]);
    expect(report.control?.status).toBe('filtered');
    expect(code).toBe(1);
  });

  it('the full catalog: TLS on the 443 lines is judged too, and the lab CA reads as interception', async () => {
    const { report, code } = await netcheck(lab, args());
    const tls = report.probes.filter((p) => p.kind === 'tls');
    expect(tls.map((p) => `${p.host}:${p.port}`).sort()).toEqual([...PROVISIONING, ...PORTAL].map((a) => `${a}:443`).sort());
    expect(new Set(tls.map((p) => p.reason))).toEqual(new Set(['TLS_INTERCEPTED']));
    for (const id of ['provisioning-primary', 'provisioning-dr', 'web-portal']) {
      const l = line(report, id);
      expect([id, l.verdict]).toEqual([id, 'partial']);
      expect(l.remediation).toMatch(/TLS to .* is intercepted .*exempt these destinations from TLS inspection/);
      expect(l.remediation).not.toMatch(/Allow outbound/);
    }
    expect(line(report, 'apns').verdict).toBe('partial');
    expect(line(report, 'signaling').verdict).toBe('pass');
    expect(code).toBe(1);
  });
});
