/**
 * Idle timers through a REAL stateful nftables firewall with short conntrack timers
 * (../shared/LAB.md): the reflector runs in the server namespace, `netcheck idle` in the client
 * namespace. Gaps straddle the firewall's timers with a 2× margin (timer 3 s UDP / 5 s TCP: gaps
 * of 1.5 s / 6 s and 2.5 s / 10 s), so a slow machine cannot flip a result.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import type { Report, TimerResult } from '../../src/types.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab idle-timer tests: ${support.why}`);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const NODE = process.execPath;

interface Ready {
  ready: true;
  tcp: number[];
  udp: number[];
  ws: number[];
}

function readyLine(child: ChildProcess): Promise<Ready> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`reflector did not start: ${err}`)), 15_000);
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, nl)) as Ready);
      }
    });
    child.once('exit', (code) => reject(new Error(`reflector exited (${code}): ${err}`)));
  });
}

async function timers(lab: Lab, firewall: { udpS: number; tcpS: number; ruleset: string }, args: string[]): Promise<{ code: number | null; report: Report; byProto: Record<string, TimerResult> }> {
  await lab.nft(firewall.ruleset);
  // Conntrack timers are per namespace: only the firewall gets short ones.
  for (const k of ['nf_conntrack_udp_timeout', 'nf_conntrack_udp_timeout_stream']) await lab.sysctl('firewall', `net.netfilter.${k}`, String(firewall.udpS));
  await lab.sysctl('firewall', 'net.netfilter.nf_conntrack_tcp_timeout_established', String(firewall.tcpS));
  // Else a late TCP segment re-creates the state and a dead flow looks alive.
  await lab.sysctl('firewall', 'net.netfilter.nf_conntrack_tcp_loose', '0');
  const r = await lab.exec('client', [NODE, BIN, 'idle', '--reflector', lab.addr.server, '--json', ...args], { timeoutMs: 90_000 });
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`netcheck idle did not print JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
  const byProto = Object.fromEntries((report.timers ?? []).map((t) => [t.protocol, t]));
  return { code: r.code, report, byProto };
}

const states = (t: TimerResult | undefined): string[] => (t?.flows ?? []).map((f) => (f.state === 'lost' ? `lost:${f.lost}` : f.state));

interface ReflectorLab {
  lab: Lab;
  ports: Ready;
  /** `netcheck idle` arguments for the three protocols, gaps straddling the short timers. */
  args: string[];
}

/**
 * A lab of its own, with the reflector running in the server namespace. Conntrack timers are per
 * namespace, so each test gets its own lab and the tests run side by side: the suite waits for the
 * longest gap once instead of once per test.
 */
async function reflectorLab(): Promise<ReflectorLab> {
  const lab = await createLab({ ruleset: statefulRuleset() });
  try {
    const child = lab.spawn('server', [NODE, BIN, 'reflect', '--listen', lab.addr.server, '--tcp', '0', '--udp', '0', '--ws', '0', '--json']);
    const ports = await readyLine(child);
    const args = [
      '--tcp-port', String(ports.tcp[0]),
      '--udp-port', String(ports.udp[0]),
      '--ws-port', String(ports.ws[0]),
      '--udp-gaps', '1500ms,6s',
      '--tcp-gaps', '2500ms,10s',
      '--ws-gaps', '2500ms,10s',
      '--require-udp', '6s',
      '--require-tcp', '10s',
      '--require-ws', '10s',
    ];
    return { lab, ports, args };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

const labs = new Set<Lab>();
async function withLab<T>(fn: (l: ReflectorLab) => Promise<T>): Promise<T> {
  const l = await reflectorLab();
  labs.add(l.lab);
  try {
    return await fn(l);
  } finally {
    labs.delete(l.lab);
    await l.lab.destroy();
  }
}

describe.skipIf(!support.ok).concurrent('lab: idle timers through a real stateful firewall', () => {
  afterAll(async () => {
    await Promise.all([...labs].map((l) => l.destroy()));
  });

  it('short firewall timers (UDP 3 s, TCP 5 s): the right bracket, and the requirement fails', () =>
    withLab(async ({ lab, args }) => {
      const { code, byProto } = await timers(lab, { udpS: 3, tcpS: 5, ruleset: statefulRuleset() }, args);
      expect(code).toBe(1);
      expect(byProto.udp).toMatchObject({ checked: true, verdict: 'fail', bracket: { longestSurvivedMs: 1500, shortestLostMs: 6000, consistent: true } });
      expect(byProto.tcp).toMatchObject({ checked: true, verdict: 'fail', bracket: { longestSurvivedMs: 2500, shortestLostMs: 10_000, consistent: true } });
      expect(byProto.ws).toMatchObject({ checked: true, verdict: 'fail', bracket: { longestSurvivedMs: 2500, shortestLostMs: 10_000 } });
      // The firewall drops silently: the reflector's send after the gap never arrives.
      expect(states(byProto.udp)).toEqual(['survived', 'lost:silent-drop']);
      expect(states(byProto.tcp)).toEqual(['survived', 'lost:silent-drop']);
      expect(states(byProto.ws)).toEqual(['survived', 'lost:silent-drop']);
      expect(byProto.tcp!.flows![1]!.direction).toBe('reflector-to-client');
    }), 90_000);

  it('generous firewall timers (UDP 30 s, TCP 60 s): every flow survives, the requirement holds', () =>
    withLab(async ({ lab, args }) => {
      const { code, byProto } = await timers(lab, { udpS: 30, tcpS: 60, ruleset: statefulRuleset() }, args);
      expect(code).toBe(0);
      for (const p of ['udp', 'tcp', 'ws']) {
        expect(byProto[p]).toMatchObject({ verdict: 'pass' });
        expect(states(byProto[p])).toEqual(['survived', 'survived']);
      }
    }), 90_000);

  it('tells a firewall that injects a reset from one that drops silently', async () => {
    const tcpOnly = (ports: Ready) => ['--no-udp', '--tcp-port', String(ports.tcp[0]), '--tcp-gaps', '2500ms,10s', '--require-tcp', '10s'];
    // After its state expired, a segment of the old flow is INVALID: this firewall answers it with RST.
    const resetting = statefulRuleset('ct state invalid meta l4proto tcp reject with tcp reset');
    const [rst, silent] = await Promise.all([
      withLab(({ lab, ports }) => timers(lab, { udpS: 3, tcpS: 5, ruleset: resetting }, tcpOnly(ports))),
      withLab(({ lab, ports }) => timers(lab, { udpS: 3, tcpS: 5, ruleset: statefulRuleset() }, tcpOnly(ports))),
    ]);
    expect(rst.code).toBe(1);
    expect(states(rst.byProto.tcp)).toEqual(['survived', 'lost:rst']);
    expect(rst.report.probes[0]).toMatchObject({ status: 'refused', reason: 'IDLE_LOST_RST' });
    expect(silent.code).toBe(1);
    expect(states(silent.byProto.tcp)).toEqual(['survived', 'lost:silent-drop']);
    expect(silent.report.probes[0]).toMatchObject({ status: 'filtered', reason: 'IDLE_LOST_SILENT' });
  }, 90_000);

  it("ws-hold: the vendor's ping cadence keeps a WebSocket through a short timer; a slower one loses it", () =>
    withLab(async ({ lab, ports }) => {
      await lab.nft(statefulRuleset());
      await lab.sysctl('firewall', 'net.netfilter.nf_conntrack_tcp_timeout_established', '5');
      await lab.sysctl('firewall', 'net.netfilter.nf_conntrack_tcp_loose', '0');
      const file = join(mkdtempSync(join(tmpdir(), 'nc-wshold-')), 'ws-hold.yaml');
      writeFileSync(
        file,
        `schema: netcheck/catalog/v1
id: wshold
title: ws-hold through a 5 s firewall timer
source: test
sections:
  - id: s
    name: WebSocket
    lines:
      - { id: fast, description: pings every 2 s, targets: [${lab.addr.server}], ports: ${ports.ws[0]}, checks: [{ kind: ws-hold, hold: 12s, pingEvery: 2s, pongTimeout: 3s }] }
      - { id: slow, description: pings every 8 s, targets: [${lab.addr.server}], ports: ${ports.ws[0]}, checks: [{ kind: ws-hold, hold: 12s, pingEvery: 8s, pongTimeout: 3s }] }
`,
      );
      const r = await lab.exec('client', [NODE, BIN, 'run', '--catalog', file, '--no-control', '--json'], { timeoutMs: 60_000 });
      const report = JSON.parse(r.stdout) as Report;
      const byLine = Object.fromEntries(report.probes.map((p) => [p.line, p]));
      expect(byLine.fast).toMatchObject({ status: 'ok', reason: 'WS_HELD' });
      // The ping after 8 s idle belongs to a flow the firewall forgot: dropped, so no pong comes.
      expect(byLine.slow).toMatchObject({ status: 'timeout', reason: 'WS_DROPPED_SILENT' });
      expect(r.code).toBe(1);
    }), 60_000);

  it('sees a NAT that maps the flow anew after its state expired', () =>
    withLab(async ({ lab, ports }) => {
      // fully-random: every new mapping gets a random source port, as many carrier-grade NATs do.
      const remapping = statefulRuleset().replace('oifname "fs" masquerade', 'oifname "fs" masquerade fully-random');
      const { code, byProto } = await timers(lab, { udpS: 3, tcpS: 60, ruleset: remapping }, ['--no-tcp', '--udp-port', String(ports.udp[0]), '--udp-gaps', '1500ms,6s', '--require-udp', '6s']);
      expect(code).toBe(1);
      expect(states(byProto.udp)).toEqual(['survived', 'lost:nat-remapped']);
      const lost = byProto.udp!.flows![1]!;
      expect(lost.seenAfter).toBeDefined();
      expect(lost.seenAfter).not.toBe(lost.seen);
    }), 90_000);
});
