/**
 * Media quality and NAT behaviour (issue 17) through a real nftables firewall: `netcheck media` in
 * the client namespace, `netcheck reflect` in the server namespace.
 *
 * Loss: nft `numgen random mod 100 < 5 drop` on one direction only. 1,500 datagrams (750/s for
 * 2 s) put the standard error of a 5 % loss at 0.56 %, so 5 % ± 2 % holds with a margin of 3.5
 * standard errors, and the other direction must stay at (almost) nothing.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { waitReady } from '../../src/lab/serve.js';
import type { MediaData } from '../../src/probers/media.js';
import type { NatData } from '../../src/probers/nat.js';
import type { Report } from '../../src/types.js';
import { needTools } from '../helpers/tools.js';

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

const dataOf = <T>(report: Report, kind: string): T => {
  const p = report.probes.find((x) => x.kind === kind)!;
  if (!p.data) throw new Error(`${kind} probe has no figures: ${p.status} ${p.reason} — ${p.detail}`);
  return p.data as unknown as T;
};

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
    // Nor a blocked port: the fix list asks for no UDP rule, it says media quality.
    expect(report.fixList?.rules).toEqual([]);
    expect(report.fixList?.instructions.map((i) => i.code)).toEqual(['MEDIA_QUALITY']);
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

  it('the firewall drops the first MEDIAOK on the way down: the client asks again, the reflector answers again, and the line is measured (not REFLECTOR_DUP)', async () => {
    // The raw UDP payload starts "NCR1 MEDIAOK"; numgen counts only the packets that got that far: the first is dropped.
    const mediaOk = '0x4e435231204d454449414f4b';
    await lab.nft(statefulRuleset('', { forwardFirst: `ip saddr ${lab.addr.server} udp sport ${port} @ih,0,96 ${mediaOk} numgen inc mod 2 == 0 counter drop` }));
    const { report, code } = await media(lab, stream());
    const p = report.probes[0]!;
    expect([p.status, p.reason], p.detail).toEqual(['ok', 'MEDIA_OK']);
    expect(dataOf<MediaData>(report, 'media').lossPct).toEqual({ up: 0, down: 0, roundTrip: 0 });
    expect(code).toBe(0);
    // The rule did drop one MEDIAOK: the path was not simply clean.
    const listed = await lab.exec('firewall', ['nft', 'list', 'ruleset']);
    expect(listed.stdout).toMatch(/numgen inc mod 2 (== )?0 counter packets 1 /);
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
    // UDP silence is no evidence of a dead path (issue 10): no run-level finding, and the line is
    // inconclusive (exit 3), not failed.
    expect(report.diagnoses.map((d) => d.code)).not.toContain('NO_OUTBOUND_CONNECTIVITY');
    expect(code).toBe(3);
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

const TURNSERVER = support.ok ? needTools('lab STUN NAT tests (coturn with RFC 5780)', ['turnserver'])?.turnserver : undefined;

describe.skipIf(!support.ok || !TURNSERVER)('lab: NAT behaviour from a STUN server with RFC 5780 (coturn on two addresses)', () => {
  let lab: Lab;
  let dir: string;
  let catalog: string;
  const SECOND = '10.200.2.3';

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    expect((await lab.exec('server', ['ip', 'addr', 'add', `${SECOND}/24`, 'dev', 's0'])).code).toBe(0);
    dir = mkdtempSync(join(tmpdir(), 'netcheck-stun-nat-'));
    lab.spawn('server', [TURNSERVER!, '-n', '--stun-only', '-L', lab.addr.server, '-L', SECOND, '--listening-port', '3478', '--no-tls', '--no-dtls', '--no-cli', '--log-file', 'stdout', '--pidfile', join(dir, 'turn.pid')]);
    // Ready once it answers a Binding request on both addresses (asked from inside the namespace,
    // by a small script that retries every 100 ms for up to 10 s).
    const ready = `const d=require('dgram');const seen=new Set();const s=d.createSocket('udp4');const b=Buffer.alloc(20);b.writeUInt16BE(1,0);b.writeUInt32BE(0x2112a442,4);` +
      `s.on('message',(m,r)=>{seen.add(r.address);if(seen.size===2){clearInterval(t);s.close();}});const t=setInterval(()=>{for(const a of ['${lab.addr.server}','${SECOND}'])s.send(b,3478,a)},100);` +
      `setTimeout(()=>process.exit(3),10000).unref();`;
    const r = await lab.exec('server', [NODE, '-e', ready], { timeoutMs: 15_000 });
    expect(r.code, `coturn did not answer: ${r.stderr}`).toBe(0);
    catalog = join(dir, 'nat.yaml');
    writeFileSync(catalog, `schema: netcheck/catalog/v1\nid: nat\ntitle: NAT\nsource: test\nsections:\n  - id: s\n    name: S\n    lines:\n      - id: nat\n        description: NAT behaviour\n        targets: [${lab.addr.server}]\n        ports: 3478\n        checks: [{ kind: nat, server: stun }]\n`);
  });
  afterAll(async () => {
    await lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const nat = async (): Promise<NatData> => {
    const r = await lab.exec('client', [NODE, BIN, 'run', '--catalog', catalog, '--no-control', '--json', '--quiet'], { timeoutMs: 30_000 });
    return (JSON.parse(r.stdout) as Report).probes[0]!.data as unknown as NatData;
  };

  it('masquerade: endpoint-independent mapping towards both server addresses, address-and-port-dependent filtering', async () => {
    await lab.nft(statefulRuleset());
    const d = await nat();
    expect(d).toMatchObject({ method: 'stun-rfc5780', otherAddress: `${SECOND}:3479`, mapping: 'endpoint-independent', filtering: 'address-and-port-dependent', needsRelay: false });
    expect(d.seen.map((x) => x.to)).toEqual([`${lab.addr.server}:3478`, `${SECOND}:3478`]);
  });

  it('masquerade random,fully-random: the mapping depends on the destination (needs a relay)', async () => {
    await lab.nft(statefulRuleset('', { masquerade: 'masquerade random,fully-random' }));
    const d = await nat();
    expect(d.mapping).toBe('address-and-port-dependent');
    expect(d.seen).toHaveLength(3);
    expect(d.needsRelay).toBe(true);
  });
});
