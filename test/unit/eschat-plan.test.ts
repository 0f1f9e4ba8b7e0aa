/**
 * The ESChat catalog against its document (../shared/seeds/003_e6f92b867918c25f.txt): the plan
 * must list exactly the probes the document implies. Nothing is sent.
 */
import { describe, expect, it } from 'vitest';
import { planJson, type PlanRow } from '../helpers/catalog.js';
import { runCli } from '../helpers/cli.js';

const PROVISIONING_PRIMARY = ['54.215.171.160', '54.219.138.108', '52.61.94.106', '3.31.151.6', '3.31.160.231', '18.252.168.182', '18.253.93.42', '18.254.200.140'];
const DATA_PRIMARY = ['3.140.60.106', '3.23.41.163', '18.221.84.42'];
const DATA_DR = ['34.198.152.141', '34.199.159.184', '34.195.225.226', '35.174.119.55'];

const plan = (args: string[]): Promise<PlanRow[]> => planJson('eschat', args);

const key = (r: PlanRow): string => `${r.kind} ${r.host}${r.port === null ? '' : `:${r.port}`}`;

describe('netcheck plan eschat', () => {
  it('lists exactly the probes the document implies', async () => {
    const rows = await plan(['--signaling-port', '7400']);
    const byLine = (l: string): string[] => rows.filter((r) => r.line === l).map(key).sort();
    const tcp = (hosts: string[], ports: number[]): string[] => hosts.flatMap((h) => ports.map((p) => `tcp ${h}:${p}`)).sort();
    const udpRange = (hosts: string[]): string[] => hosts.flatMap((h) => Array.from({ length: 64 }, (_, i) => `udp ${h}:${4201 + i}`)).sort();
    // TCP 443 lines also check TLS for interception (issue 10): a TCP handshake alone passes while a
    // middlebox re-signs the vendor's TLS.
    const tls443 = (hosts: string[]): string[] => hosts.map((h) => `tls ${h}:443`);
    const withTls = (hosts: string[]): string[] => [...tcp(hosts, [80, 443]), ...tls443(hosts)].sort();

    expect(byLine('provisioning-primary')).toEqual(withTls(PROVISIONING_PRIMARY));
    expect(byLine('provisioning-dr')).toEqual(withTls(['35.153.48.78']));
    expect(byLine('signaling')).toEqual(tcp(['3.97.31.75', '15.223.60.24'], [7400]));
    expect(byLine('data-primary')).toEqual(udpRange(DATA_PRIMARY));
    expect(byLine('data-dr')).toEqual(udpRange(DATA_DR));
    expect(byLine('web-portal')).toEqual(withTls(['52.60.139.97', '3.98.4.177']));
    // Bare addresses: no SNI, and only interception is judged (their default certificate need not name them).
    for (const r of rows.filter((x) => x.kind === 'tls')) expect([r.options, r.port]).toEqual([{ interceptionOnly: true }, 443]);
    expect(byLine('google-maps')).toEqual(['dns maps.googleapis.com', ...tcp(['maps.googleapis.com'], [80, 443])].sort());
    expect(byLine('google-fonts')).toEqual(['dns fonts.gstatic.com', ...tcp(['fonts.gstatic.com'], [80, 443])].sort());

    const apns = rows.filter((r) => r.line === 'apns');
    expect(apns).toHaveLength(4 * 2);
    for (const r of apns) {
      expect(r.sampledFrom).toBe('17.0.0.0/8');
      expect(r.host.startsWith('17.')).toBe(true);
      expect([80, 5223]).toContain(r.port);
    }
    // 16 + 8 tls + 2 + 1 tls + 2 + 192 + 256 + 4 + 2 tls + 8 + 6
    expect(rows).toHaveLength(497);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it('honours an overridden data port range and the iOS condition', async () => {
    const rows = await plan(['--signaling-port', '7400', '--data-ports', '5000-5001', '--ios-devices', 'no']);
    expect(rows.filter((r) => r.kind === 'udp')).toHaveLength(7 * 2);
    expect(rows.filter((r) => r.line === 'apns')).toHaveLength(0);
  });

  it('--sweep of 17.0.0.0/8 is refused with the cap and how to sample', async () => {
    const r = await runCli(['plan', 'eschat', '--signaling-port', '7400', '--sweep', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('17.0.0.0/8 holds 16777216 addresses, more than the sweep cap of 65536');
    expect(r.stderr).toContain('--sample');
  });

  it('a missing signaling port leaves that line not checked, naming the parameter and where to find it', async () => {
    // Issue 15: `netcheck eschat` as typed plans every other line (test/unit/missing-params.test.ts).
    const r = await runCli(['plan', 'eschat', '--json']);
    expect(r.code).toBe(0);
    const skips = (JSON.parse(r.stdout) as { line: string; skip?: string }[]).filter((p) => p.skip).map((p) => [p.line, p.skip]);
    expect(skips).toHaveLength(1);
    expect(skips[0]![0]).toBe('signaling');
    expect(skips[0]![1]).toContain('--signaling-port');
    expect(skips[0]![1]).toContain('Administrative Portal');
  });

  it.each([
    ['0', 'port 0 is out of range 1-65535'],
    ['65536', 'port 65536 is out of range 1-65535'],
    ['7400-7401', 'is not a single port'],
    ['abc', 'is not a port'],
  ])('--signaling-port %s is refused with exit 2', async (value, message) => {
    const r = await runCli(['plan', 'eschat', '--signaling-port', value]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('an unknown parameter lists the real ones', async () => {
    const r = await runCli(['plan', 'eschat', '--signalling-port', '7400']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--signaling-port');
  });
});

describe('list options do not swallow the catalog name', () => {
  it('--only and --param before the positional catalog', async () => {
    const r = await runCli(['plan', '--only', 'tcp,dns', '--param', 'signaling-port=7400', 'eschat', '--json', '--no-control']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { kind: string }[];
    expect(new Set(rows.map((x) => x.kind))).toEqual(new Set(['tcp', 'dns']));
  });
});
