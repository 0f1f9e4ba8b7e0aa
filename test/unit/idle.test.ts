/**
 * Idle-timer probers on loopback against a real reflector (and, to exercise the loss
 * classification, small real servers that reset, stay silent or are not reflectors at all). The
 * firewall behaviours themselves are in test/lab/timers.test.ts.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeLookup, runOne } from '../../src/engine/run.js';
import { bracketOf, summarise } from '../../src/probers/idle-verdict.js';
import { idleOptions } from '../../src/kinds/idle-options.js';
import { kindDeadlineMs as idleDeadlineMs } from '../../src/probers/index.js';
import { encode, parse } from '../../src/reflector/protocol.js';
import { startReflector, type Reflector } from '../../src/reflector/server.js';
import { reportJsonSchema } from '../../src/report/schema.js';
import type { IdleCheckData, IdleFlowResult, ProbeContext, ProbeSpec } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function reflector(o: Parameters<typeof startReflector>[0] = {}): Promise<Reflector> {
  const r = await startReflector({ tcpPorts: [0], udpPorts: [0], wsPorts: [0], ...o });
  cleanups.push(() => r.close());
  return r;
}

function spec(kind: string, port: number, options: Record<string, unknown>): ProbeSpec {
  return { id: `t/${kind}`, line: 't', kind, host: '127.0.0.1', port, options, timeoutMs: idleDeadlineMs(kind, options)! };
}

async function run(s: ProbeSpec, extra: Partial<ProbeContext> = {}) {
  const o = await runOne(s, { lookup: makeLookup(), ...extra });
  return { ...o, d: o.data as unknown as IdleCheckData };
}

/** A TCP server speaking just enough NCR1 to arm flows, then doing `atGap` instead of a WAKE. */
async function fakeReflector(atGap: 'reset' | 'silent' | 'fin'): Promise<number> {
  const conns = new Set<Socket>();
  const srv: Server = createServer((s) => {
    conns.add(s);
    s.on('error', () => undefined);
    s.on('close', () => conns.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const m = parse(Buffer.from(buf.slice(0, nl + 1)));
        buf = buf.slice(nl + 1);
        if ('error' in m) continue;
        if (m.verb === 'HELLO') s.write(encode('TOKEN', { t: 'tok', seen: 'x:1' }, 0, true));
        if (m.verb === 'ARM') {
          s.write(encode('ARMED', { id: m.fields.id!, seen: 'x:1' }, 0, true));
          setTimeout(() => (atGap === 'reset' ? s.resetAndDestroy() : atGap === 'fin' ? s.end() : undefined), Number(m.fields.gap) - 50);
        }
        // 'silent': never WAKE, never answer BACK — a path that forgot the flow.
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => { for (const c of conns) c.destroy(); srv.close(() => r()); }));
  return (srv.address() as AddressInfo).port;
}

describe('bracket and verdict', () => {
  const flow = (gapMs: number, state: IdleFlowResult['state'], lost?: IdleFlowResult['lost']): IdleFlowResult => ({
    id: `f${gapMs}`,
    protocol: 'tcp',
    gapMs,
    state,
    survived: state === 'survived' ? true : state === 'lost' ? false : null,
    ...(lost ? { lost, direction: 'reflector-to-client' as const } : {}),
    reason: 'X',
    detail: 'x',
  });
  const opts = idleOptions('tcp', { requireMs: 720_000 });

  it('derives the default gaps from the required timer', () => {
    expect(idleOptions('tcp', { require: '12m' }).gapsMs).toEqual([120_000, 300_000, 480_000, 660_000, 750_000, 900_000]);
    expect(idleOptions('udp', { require: '1m' }).gapsMs).toEqual([20_000, 40_000, 55_000, 65_000, 90_000]);
  });

  it('brackets the timer between the longest survived and the shortest lost gap', () => {
    const flows = [flow(120_000, 'survived'), flow(300_000, 'survived'), flow(480_000, 'survived'), flow(660_000, 'lost', 'silent-drop'), flow(750_000, 'lost', 'silent-drop')];
    const b = bracketOf(flows, 'tcp');
    expect(b).toMatchObject({ longestSurvivedMs: 480_000, shortestLostMs: 660_000, consistent: true });
    expect(b.text).toBe('this path forgets idle TCP flows after 8m to 11m');
    const s = summarise(flows, 'tcp', opts, false);
    expect(s.data.verdict).toBe('fail');
    expect(s.outcome).toMatchObject({ status: 'filtered', reason: 'IDLE_LOST_SILENT' });
  });

  it('passes when a gap at least as long as the requirement survived, and losses only come later', () => {
    const s = summarise([flow(660_000, 'survived'), flow(750_000, 'survived'), flow(900_000, 'lost', 'rst')], 'tcp', opts, false);
    expect(s.data.verdict).toBe('pass');
    expect(s.outcome.status).toBe('ok');
  });

  it('is inconclusive, never pass, when no gap reached the requirement', () => {
    const s = summarise([flow(120_000, 'survived'), flow(300_000, 'pending')], 'tcp', opts, true);
    expect(s.data.verdict).toBe('inconclusive');
    expect(s.outcome.status).toBe('skipped');
  });

  it('is ambiguous, not an error, when the requirement falls inside the bracket', () => {
    const s = summarise([flow(120_000, 'survived'), flow(900_000, 'lost', 'silent-drop')], 'tcp', opts, false);
    expect(s.data.verdict).toBe('inconclusive');
    expect(s.outcome).toMatchObject({ status: 'open|filtered', reason: 'IDLE_NOT_PROVEN' });
  });

  it('says when the flows disagree', () => {
    expect(bracketOf([flow(120_000, 'lost', 'silent-drop'), flow(300_000, 'survived')], 'udp').consistent).toBe(false);
  });
});

describe('idle checks against a real reflector on loopback', () => {
  it('tcp-idle, udp-idle and ws-idle: every flow survives, sends land on their deadline', async () => {
    const r = await reflector();
    const gaps = { gaps: ['300ms', '800ms'], require: '800ms' };
    const results = await Promise.all([run(spec('tcp-idle', r.tcp[0]!, gaps)), run(spec('udp-idle', r.udp[0]!, gaps)), run(spec('ws-idle', r.ws[0]!, gaps))]);
    expect(r.stats().wakesSent).toBe(6);
    expect(r.stats().wakeLateMaxMs).toBeLessThan(500);
    for (const o of results) {
      expect(o).toMatchObject({ status: 'ok', reason: 'IDLE_TIMER_OK' });
      expect(o.d.verdict).toBe('pass');
      expect(o.d.flows.map((f) => f.state)).toEqual(['survived', 'survived']);
      for (const f of o.d.flows) {
        expect(f.seen).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(f.seenAfter).toBe(f.seen);
        // The client starts its clock when ARMED arrives, the reflector when ARM did: under load the
        // client's clock starts late, so the send can look early by that much. Generous bounds:
        // 2 shared cores. The benchmark measures the real accuracy.
        expect(f.wakeLateMs!).toBeGreaterThan(-250);
        expect(f.wakeLateMs!).toBeLessThan(500);
      }
    }
  });

  it('needs the shared secret when the reflector has one', async () => {
    const r = await reflector({ secret: 'sesame-sesame' });
    const s = spec('tcp-idle', r.tcp[0]!, { gaps: ['200ms'], require: '200ms' });
    const without = await run(s);
    expect(without).toMatchObject({ status: 'error', reason: 'REFLECTOR_AUTH' });
    const wrong = await run(s, { reflectorSecret: 'not-the-secret' });
    expect(wrong.reason).toBe('REFLECTOR_AUTH');
    const right = await run(s, { reflectorSecret: 'sesame-sesame' });
    expect(right.status).toBe('ok');
  });

  it('returns what it measured when stopped (first Ctrl-C)', async () => {
    const r = await reflector();
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1200);
    const t0 = performance.now();
    const o = await run(spec('udp-idle', r.udp[0]!, { gaps: ['300ms', '20s'], require: '20s' }), { stopSignal: stop.signal });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(o).toMatchObject({ status: 'skipped', reason: 'INTERRUPTED' });
    expect(o.d.flows.map((f) => f.state)).toEqual(['survived', 'pending']);
  });

  it('reports an unreachable reflector as such', async () => {
    const srv = createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((res) => srv.close(() => res()));
    const o = await run(spec('tcp-idle', port, { gaps: ['200ms'] }));
    expect(o).toMatchObject({ status: 'refused', reason: 'ECONNREFUSED' });
    expect(o.d.verdict).toBe('inconclusive');
  });
});

describe('how a flow was lost', () => {
  it('tells a reset from a silent drop from a close', async () => {
    const [reset, silent, fin] = await Promise.all([fakeReflector('reset'), fakeReflector('silent'), fakeReflector('fin')]);
    const o = { gaps: ['400ms'], require: '1s', backWait: '500ms', grace: '300ms' };
    const [a, b, c] = await Promise.all([run(spec('tcp-idle', reset, o)), run(spec('tcp-idle', silent, o)), run(spec('tcp-idle', fin, o))]);
    expect(a).toMatchObject({ status: 'refused', reason: 'IDLE_LOST_RST' });
    expect(a.d.flows[0]).toMatchObject({ state: 'lost', lost: 'rst', direction: 'during-gap', reason: 'ECONNRESET' });
    expect(b).toMatchObject({ status: 'filtered', reason: 'IDLE_LOST_SILENT' });
    expect(b.d.flows[0]).toMatchObject({ state: 'lost', lost: 'silent-drop', reason: 'WAKE_MISSING' });
    expect(c).toMatchObject({ status: 'refused', reason: 'IDLE_LOST_CLOSED' });
    expect(c.d.flows[0]).toMatchObject({ lost: 'closed', reason: 'FIN' });
  });
});

describe('ICMP', () => {
  it('a UDP flow whose far end vanished during the gap is lost with ICMP port unreachable', async () => {
    const r = await startReflector({ udpPorts: [0] });
    setTimeout(() => void r.close(), 400);
    const o = await run(spec('udp-idle', r.udp[0]!, { gaps: ['1s'], require: '1s', grace: '300ms', backWait: '1s' }));
    expect(o).toMatchObject({ status: 'unreachable', reason: 'IDLE_LOST_ICMP' });
    expect(o.d.flows[0]).toMatchObject({ state: 'lost', lost: 'icmp', reason: 'ECONNREFUSED' });
  });
});

describe('endpoints that are not reflectors', () => {
  it('holds a TCP flow and reports only what it proves: inconclusive', async () => {
    let received = 0;
    const conns = new Set<Socket>();
    const srv = createServer((s) => {
      conns.add(s);
      s.on('data', (d) => (received += d.length));
      s.on('error', () => undefined);
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    cleanups.push(() => new Promise<void>((res) => { for (const c of conns) c.destroy(); srv.close(() => res()); }));
    const port = (srv.address() as AddressInfo).port;
    const held = await run(spec('tcp-idle', port, { gaps: ['400ms'], require: '400ms', mode: 'hold' }));
    expect(held).toMatchObject({ status: 'open|filtered', reason: 'IDLE_UNPROVEN' });
    expect(held.d).toMatchObject({ mode: 'hold', verdict: 'inconclusive' });
    expect(held.d.flows[0]).toMatchObject({ state: 'unproven', reason: 'HELD_OPEN' });
    expect(received).toBe(0); // mode hold: nothing was sent to the vendor's server
    // Without mode: hold the greeting goes unanswered, and it falls back to holding.
    const auto = await run(spec('tcp-idle', port, { gaps: ['300ms'], require: '300ms', setup: '300ms' }));
    expect(auto).toMatchObject({ status: 'open|filtered', reason: 'IDLE_UNPROVEN' });
  });

  it('calls a silent UDP port silence (blocked or absent), never a non-reflector', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    cleanups.push(() => void s.close());
    const o = await run(spec('udp-idle', s.address().port, { gaps: ['300ms'], setup: '600ms' }));
    expect(o).toMatchObject({ status: 'open|filtered', reason: 'UDP_SILENCE' });
    expect(o.d.verdict).toBe('inconclusive');
    expect(o.d.flows[0]).toMatchObject({ state: 'error', reason: 'UDP_SILENCE' });
  });

  it('says a UDP echo server cannot prove anything', async () => {
    const s = createSocket('udp4');
    s.on('message', (m, ri) => s.send(m, ri.port, ri.address));
    await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
    cleanups.push(() => void s.close());
    const o = await run(spec('udp-idle', s.address().port, { gaps: ['300ms'] }));
    expect(o).toMatchObject({ status: 'open|filtered', reason: 'IDLE_UNPROVEN' });
    expect(o.d.flows[0]).toMatchObject({ state: 'unproven', reason: 'NOT_A_REFLECTOR' });
  });
});

describe('ws-hold', () => {
  async function wsServer(onConn: (ws: import('ws').WebSocket, sock: Socket) => void, autoPong = true): Promise<number> {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', autoPong });
    wss.on('connection', (ws, req) => onConn(ws, req.socket as Socket));
    await new Promise((res) => wss.once('listening', res));
    cleanups.push(() => new Promise<void>((res) => { for (const c of wss.clients) c.terminate(); wss.close(() => res()); }));
    return (wss.address() as AddressInfo).port;
  }
  const hold = { hold: '1200ms', pingEvery: '300ms', pongTimeout: '400ms', path: '/' };

  it('holds a WebSocket with the vendor ping cadence', async () => {
    const r = await reflector();
    const o = await run(spec('ws-hold', r.ws[0]!, { ...hold, path: '/netcheck' }));
    expect(o).toMatchObject({ status: 'ok', reason: 'WS_HELD' });
    expect((o.data as { pings: number; pongs: number }).pongs).toBe(3);
  });

  it('reports a close frame with its code, a reset, and silence', async () => {
    const closing = await wsServer((ws) => setTimeout(() => ws.close(4001, 'idle'), 400));
    const resetting = await wsServer((_ws, sock) => setTimeout(() => sock.resetAndDestroy(), 400));
    const silent = await wsServer(() => undefined, false);
    const [a, b, c] = await Promise.all([run(spec('ws-hold', closing, hold)), run(spec('ws-hold', resetting, hold)), run(spec('ws-hold', silent, hold))]);
    expect(a).toMatchObject({ status: 'refused', reason: 'WS_DROPPED_CLOSE' });
    expect((a.data as { closeCode: number }).closeCode).toBe(4001);
    expect(b).toMatchObject({ status: 'refused', reason: 'WS_DROPPED_RST' });
    expect(c).toMatchObject({ status: 'timeout', reason: 'WS_DROPPED_SILENT' });
  });

  it('netcheck probe ws-hold takes --hold, --ping-every and --pong-timeout (no 15-minute default from the command line)', async () => {
    const r = await reflector();
    const res = await runCli(['probe', 'ws-hold', `127.0.0.1:${r.ws[0]}`, '--path', '/netcheck', '--hold', '1200ms', '--ping-every', '300ms', '--pong-timeout', '400ms', '--json']);
    expect(res.code).toBe(0);
    const p = (JSON.parse(res.stdout) as { probes: { status: string; reason: string; data: { pongs: number } }[] }).probes[0]!;
    expect(p).toMatchObject({ status: 'ok', reason: 'WS_HELD' });
    expect(p.data.pongs).toBe(3);
    expect(res.ms).toBeLessThan(10_000);
    const silent = await wsServer(() => undefined, false);
    const lost = await runCli(['probe', 'ws-hold', `127.0.0.1:${silent}`, '--path', '/', '--hold', '2s', '--ping-every', '200ms', '--pong-timeout', '300ms', '--json']);
    expect(JSON.parse(lost.stdout).probes[0]).toMatchObject({ status: 'timeout', reason: 'WS_DROPPED_SILENT' });
    // --wss, trusting the reflector's self-signed certificate through the run's pin.
    const tls = await reflector({ wsPorts: [], wssPorts: [0] });
    const wss = await runCli(['probe', 'ws-hold', `127.0.0.1:${tls.wss[0]}`, '--wss', '--reflector-fingerprint', tls.fingerprint!, '--path', '/netcheck', '--hold', '400ms', '--ping-every', '200ms', '--json']);
    expect(JSON.parse(wss.stdout).probes[0]).toMatchObject({ status: 'ok', reason: 'WS_HELD' });
    // A bad value names its flag; a ws-hold flag on another kind is a usage error too.
    const bad = await runCli(['probe', 'ws-hold', '127.0.0.1:9', '--hold', '5x']);
    expect([bad.code, bad.stderr.trim()]).toEqual([2, "netcheck: --hold: '5x' is not a duration; use a unit, e.g. 500ms, 3s, 12m"]);
    const wrongKind = await runCli(['probe', 'tcp', '127.0.0.1:9', '--ping-every', '1s']);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('--ping-every applies to ws-hold probes, not tcp');
  });

  it('pins a self-signed reflector certificate', async () => {
    const r = await reflector({ wsPorts: [], wssPorts: [0] });
    const base = { ...hold, hold: '400ms', path: '/netcheck', tls: true };
    const pinned = await run(spec('ws-hold', r.wss[0]!, { ...base, fingerprint: r.fingerprint }));
    expect(pinned.status).toBe('ok');
    const wrong = await run(spec('ws-hold', r.wss[0]!, { ...base, fingerprint: 'AA'.repeat(32) }));
    expect(wrong).toMatchObject({ status: 'error', reason: 'TLS_PIN_MISMATCH' });
    const unpinned = await run(spec('ws-hold', r.wss[0]!, base));
    expect(unpinned).toMatchObject({ status: 'error', reason: 'TLS_UNTRUSTED' });
    const idle = await run(spec('ws-idle', r.wss[0]!, { gaps: ['300ms'], tls: true, fingerprint: r.fingerprint }));
    expect(idle.status).toBe('ok');
    // The run's reflector pin (--reflector-fingerprint) lets a catalog line without one trust it too…
    const runPinned = await run(spec('ws-hold', r.wss[0]!, base), { reflectorFingerprint: r.fingerprint!.replace(/:/g, '').toLowerCase() });
    expect(runPinned.status).toBe('ok');
    // …and only it.
    const runWrong = await run(spec('ws-hold', r.wss[0]!, base), { reflectorFingerprint: 'BB'.repeat(32) });
    expect(runWrong).toMatchObject({ status: 'error', reason: 'TLS_UNTRUSTED' });
  });
});

describe('CLI', () => {
  it('netcheck idle: JSON per flow and per protocol, exit 0 when the requirements hold', async () => {
    const r = await reflector();
    const res = await runCli(['idle', '--reflector', '127.0.0.1', '--tcp-port', String(r.tcp[0]), '--udp-port', String(r.udp[0]), '--tcp-gaps', '300ms,600ms', '--udp-gaps', '300ms', '--require-tcp', '600ms', '--require-udp', '300ms', '--json']);
    expect(res.code).toBe(0);
    const rep = JSON.parse(res.stdout) as { timers: { protocol: string; verdict: string; bracket: { longestSurvivedMs: number }; flows: { protocol: string; gapMs: number; survived: boolean }[] }[] };
    expect(rep.timers.map((t) => [t.protocol, t.verdict, t.bracket.longestSurvivedMs])).toEqual([['tcp', 'pass', 600], ['udp', 'pass', 300]]);
    expect(rep.timers[0]!.flows.map((f) => [f.protocol, f.gapMs, f.survived])).toEqual([['tcp', 300, true], ['tcp', 600, true]]);
    expect(res.stderr).toMatch(/will take about/);
    const ajv = new Ajv({ allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    const validate = ajv.compile(reportJsonSchema());
    expect(validate(rep), JSON.stringify(validate.errors)).toBe(true);
  });

  it('Ctrl-C writes the partial result (exit 130)', async () => {
    const r = await reflector();
    const res = await runCli(['idle', '--reflector', '127.0.0.1', '--tcp-port', String(r.tcp[0]), '--no-udp', '--tcp-gaps', '300ms,30s', '--require-tcp', '30s', '--json'], { signalOnStderr: /1 alive/ });
    expect(res.code).toBe(130);
    const rep = JSON.parse(res.stdout) as { interrupted: boolean; timers: { flows: { state: string }[] }[] };
    expect(rep.interrupted).toBe(true);
    expect(rep.timers[0]!.flows.map((f) => f.state)).toEqual(['survived', 'pending']);
  });

  it('plan --timers lists the timer checks with the gaps derived from the catalog, sending nothing', async () => {
    const res = await runCli(['plan', 'eschat', '--signaling-port', '7400', '--timers', '--reflector', 'reflector.example.net', '--json']);
    expect(res.code).toBe(0);
    const rows = (JSON.parse(res.stdout) as { kind: string; host: string; port: number; timeoutMs: number; options: { gapsMs: number[]; requireMs: number } }[]).filter((r) => r.kind.endsWith('-idle'));
    expect(rows.map((r) => [r.kind, r.host, r.port, r.options.requireMs, r.options.gapsMs])).toEqual([
      ['tcp-idle', 'reflector.example.net', 7070, 720_000, [120_000, 300_000, 480_000, 660_000, 750_000, 900_000]],
      ['udp-idle', 'reflector.example.net', 7070, 60_000, [20_000, 40_000, 55_000, 65_000, 90_000]],
    ]);
    // The deadline comes from the longest gap, not the 3 s default.
    expect(rows[0]!.timeoutMs).toBeGreaterThan(900_000);
    expect(rows[1]!.timeoutMs).toBeGreaterThan(90_000);
  });

  it('refuses bad timer options with exit 2 and names the flag', async () => {
    const bad = await runCli(['idle', '--reflector', '127.0.0.1', '--tcp-gaps', '5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--tcp-gaps/);
    // A loopback catalog, never a vendor's: should the usage check ever move, nothing leaves this host.
    const file = join(mkdtempSync(join(tmpdir(), 'nc-timers-')), 'loop.yaml');
    writeFileSync(
      file,
      `schema: netcheck/catalog/v1
id: loop
title: loopback
source: test
timers: [{ id: t, protocol: tcp, seconds: 60, description: a TCP flow must survive 1 minute idle, source: test }]
sections: [{ id: s, name: s, lines: [{ id: l, description: d, targets: [127.0.0.1], ports: 9, checks: [{ kind: tcp }] }] }]
`,
    );
    const noReflector = await runCli(['run', '--catalog', file, '--timers', '--no-control']);
    expect(noReflector.code).toBe(2);
    expect(noReflector.stderr).toMatch(/--reflector/);
  });

  it('a catalog run with --timers measures the catalog timers, scaled', async () => {
    const r = await reflector();
    const dir = mkdtempSync(join(tmpdir(), 'nc-timers-'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(
      file,
      `schema: netcheck/catalog/v1
id: lab
title: loopback timers
source: test
timers:
  - { id: tcp-reg, protocol: tcp, seconds: 60, description: a TCP flow must survive 1 minute idle, source: test }
  - { id: udp-reg, protocol: udp, seconds: 30, description: a UDP flow must survive 30 s idle, source: test }
sections:
  - id: s
    name: reflector
    lines:
      - { id: l, description: reflector TCP, targets: [127.0.0.1], ports: ${r.tcp[0]}, checks: [{ kind: tcp }] }
`,
    );
    const res = await runCli(['run', '--catalog', file, '--no-control', '--json', '--timers', '--reflector', '127.0.0.1', '--reflector-tcp-port', String(r.tcp[0]), '--reflector-udp-port', String(r.udp[0]), '--timer-scale', '0.02']);
    expect(res.code).toBe(0);
    const rep = JSON.parse(res.stdout) as { timers: { id: string; checked: boolean; verdict: string; requireMs: number; flows: unknown[] }[] };
    expect(rep.timers.map((t) => [t.id, t.checked, t.verdict, t.requireMs, t.flows.length])).toEqual([
      ['tcp-reg', true, 'pass', 1200, 6],
      ['udp-reg', true, 'pass', 600, 5],
    ]);
  });
});
