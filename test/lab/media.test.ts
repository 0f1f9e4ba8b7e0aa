/**
 * Media quality and NAT behaviour (issue 17) through a real nftables firewall: `netcheck media` in
 * the client namespace, `netcheck reflect` in the server namespace.
 *
 * Loss: nft `numgen random mod 100 < 5 drop` on one direction only. 1,500 datagrams (750/s for
 * 2 s) put the standard error of a 5 % loss at 0.56 %, so 5 % ± 2 % holds with a margin of 3.5
 * standard errors, and the other direction must stay at (almost) nothing.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { waitReady } from '../../src/lab/serve.js';
import type { MediaData } from '../../src/probers/media.js';
import type { NatData } from '../../src/probers/nat.js';
import type { Report } from '../../src/types.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab media tests: ${support.why}`);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const NODE = process.execPath;

interface ReflectorReady {
  ready: true;
  udp: number[];
}

/** Start `netcheck reflect --json` in the server namespace; its startup line is JSON with the bound ports. */
async function startReflector(lab: Lab, args: string[]): Promise<ReflectorReady> {
  return (await waitReady(lab.spawn('server', [NODE, BIN, 'reflect', '--json', ...args]))) as unknown as ReflectorReady;
}

async function media(lab: Lab, args: string[]): Promise<{ report: Report; code: number | null; ms: number }> {
  const t0 = performance.now();
  const r = await lab.exec('client', [NODE, BIN, 'media', '--reflector', lab.addr.server, '--json', '--quiet', ...args], { timeoutMs: 60_000 });
  try {
    return { report: JSON.parse(r.stdout) as Report, code: r.code, ms: performance.now() - t0 };
  } catch {
    throw new Error(`netcheck media did not print JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
}

const dataOf = <T>(report: Report, kind: string): T => report.probes.find((p) => p.kind === kind)!.data as unknown as T;

describe.skipIf(!support.ok)('lab: media quality per direction through a real firewall', () => {
  let lab: Lab;
  let port: number;
  const stream = (): string[] => ['--udp-port', String(port), '--pps', '750', '--duration', '2s'];

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    port = (await startReflector(lab, ['--listen', lab.addr.server, '--udp', '0'])).udp[0]!;
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('5 % dropped on the way up: 5 % ± 2 % lost up, ~0 down; MEDIA_LOSS fails the line', async () => {
    await lab.nft(statefulRuleset('', { forwardFirst: `ip daddr ${lab.addr.server} udp dport ${port} numgen random mod 100 < 5 drop` }));
    const { report, code, ms } = await media(lab, stream());
    const d = dataOf<MediaData>(report, 'media');
    console.info(`media, 5% up: up ${d.lossPct.up}% down ${d.lossPct.down}% (sent ${d.sent}, reflector got ${d.reflector?.received}), MOS ${d.mos?.overall}, ${Math.round(ms)} ms wall`);
    expect(d.perDirection).toBe(true);
    expect(d.sent).toBe(1500);
    expect(d.lossPct.up).toBeGreaterThanOrEqual(3);
    expect(d.lossPct.up).toBeLessThanOrEqual(7);
    expect(d.lossPct.down).toBeLessThanOrEqual(0.5);
    const p = report.probes[0]!;
    expect([p.status, p.reason]).toEqual(['filtered', 'MEDIA_LOSS']);
    expect(d.exceeded[0]).toMatch(/^loss up /);
    expect(report.lines[0]!.verdict).toBe('fail');
    // Packets got through: a quality failure is not "no outbound connectivity".
    expect(report.diagnoses.map((x) => x.code)).not.toContain('NO_OUTBOUND_CONNECTIVITY');
    expect(code).toBe(1);
  });

  it('5 % dropped on the way down: 5 % ± 2 % lost down, ~0 up', async () => {
    await lab.nft(statefulRuleset('', { forwardFirst: `ip saddr ${lab.addr.server} udp sport ${port} numgen random mod 100 < 5 drop` }));
    const { report } = await media(lab, stream());
    const d = dataOf<MediaData>(report, 'media');
    console.info(`media, 5% down: up ${d.lossPct.up}% down ${d.lossPct.down}%, MOS ${d.mos?.overall}`);
    expect(d.lossPct.down).toBeGreaterThanOrEqual(3);
    expect(d.lossPct.down).toBeLessThanOrEqual(7);
    expect(d.lossPct.up).toBeLessThanOrEqual(0.5);
    expect(d.exceeded[0]).toMatch(/^loss down /);
  });

  it('a clean path: within every threshold, MOS of G.711 (≈ 4.4), exit 0', async () => {
    await lab.nft(statefulRuleset());
    const { report, code } = await media(lab, stream());
    const d = dataOf<MediaData>(report, 'media');
    expect(d.lossPct).toEqual({ up: 0, down: 0, roundTrip: 0 });
    expect(d.mos!.overall).toBeGreaterThanOrEqual(4.3);
    expect(d.rttMs!.avg).toBeLessThan(100);
    expect(report.probes[0]!.status).toBe('ok');
    expect(code).toBe(0);
  });

  it('UDP to the media port dropped entirely: silence, not a quality figure', async () => {
    await lab.nft(statefulRuleset(`udp dport ${port} drop`));
    const { report, code } = await media(lab, ['--udp-port', String(port), '--duration', '1s', '--timeout', '1s']);
    expect([report.probes[0]!.status, report.probes[0]!.reason]).toEqual(['open|filtered', 'UDP_SILENCE']);
    // Nothing at all got through: the run-level finding, as for any run (exit 1).
    expect(report.diagnoses[0]?.code).toBe('NO_OUTBOUND_CONNECTIVITY');
    expect(code).toBe(1);
  });
});

describe.skipIf(!support.ok)('lab: NAT behaviour (masquerade vs fully random source ports)', () => {
  let lab: Lab;
  let ports: number[];

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    ports = (await startReflector(lab, ['--listen', lab.addr.server, '--udp', '0,0'])).udp;
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const nat = async (): Promise<NatData> => {
    const { report } = await media(lab, ['--udp-port', String(ports[0]), '--nat-port', String(ports[1]), '--duration', '300ms']);
    return dataOf<NatData>(report, 'nat');
  };

  it('masquerade keeps one public port per socket: endpoint-independent mapping, port-dependent filtering, no relay needed', async () => {
    await lab.nft(statefulRuleset());
    const d = await nat();
    expect(d.seen).toHaveLength(2);
    expect(d.seen[0]!.seen).toBe(d.seen[1]!.seen);
    expect(d.seen[0]!.seen.startsWith(`${lab.addr.fwServer}:`)).toBe(true);
    expect(d).toMatchObject({ mapping: 'endpoint-independent', filtering: 'address-and-port-dependent', needsRelay: false });
  });

  it('masquerade random,fully-random: a new public port per destination, a "symmetric" NAT, media needs a relay', async () => {
    await lab.nft(statefulRuleset('', { masquerade: 'masquerade random,fully-random' }));
    const d = await nat();
    expect(d.seen).toHaveLength(2);
    expect(d.seen[0]!.seen).not.toBe(d.seen[1]!.seen);
    expect(d).toMatchObject({ mapping: 'address-and-port-dependent', needsRelay: true });
  });
});
