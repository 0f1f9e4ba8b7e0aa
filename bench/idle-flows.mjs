#!/usr/bin/env node
/**
 * Idle-flow benchmark (issue 3), loopback only:
 *
 * 1. Extra resident memory per held idle flow, from 1,000 to 5,000 flows, in the process that
 *    holds them: the netcheck reflector (TCP and WebSocket flows armed with a 1 h gap) against bare
 *    node:net / ws scripts that merely accept and hold connections, measured side by side.
 *    Budget: ≤ 6.5 KiB per TCP flow, ≤ 18 KiB per WebSocket flow.
 * 2. Timer accuracy while the event loop is busy with probes: idle checks (staggered gaps) run
 *    alongside a continuous engine sweep of loopback TCP probes (and 5 ms of synchronous work
 *    every 50 ms); every gap must
 *    end within +100 ms of its deadline. A naive setInterval tick counter runs alongside, to show
 *    the drift that absolute deadlines avoid.
 *
 * Usage: npm run build && node bench/idle-flows.mjs [--flows 5000] [--runs 3] [--json]
 *   BENCH_MEM_ONLY=1 / BENCH_TIMERS_ONLY=1: one half only; BENCH_FIXED_YOUNG=1: see below.
 */
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const DIST = new URL('../dist/', import.meta.url);
const SELF = fileURLToPath(import.meta.url);
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Roles run in child processes, so each holder's memory is measured alone.
// ---------------------------------------------------------------------------------------------
async function serverRole(kind) {
  let port;
  if (kind === 'reflector-tcp' || kind === 'reflector-ws') {
    const { startReflector } = await import(new URL('reflector/server.js', DIST).href);
    const big = 1_000_000;
    const r = await startReflector({
      ...(kind === 'reflector-tcp' ? { tcpPorts: [0] } : { wsPorts: [0] }),
      maxFlows: big,
      maxFlowsPerSource: big,
      maxConnectionsPerSource: big,
      ratePerSecond: big,
      rateBurst: big,
      bytesPerSecond: 1e9,
    });
    port = kind === 'reflector-tcp' ? r.tcp[0] : r.ws[0];
    globalThis.__stats = () => r.stats();
  } else if (kind === 'bare-tcp') {
    const held = new Set();
    const srv = createServer((s) => {
      held.add(s);
      s.on('error', () => undefined);
      s.on('close', () => held.delete(s));
    });
    await new Promise((r) => srv.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
    port = srv.address().port;
  } else if (kind === 'bare-ws') {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
  }
  process.stdout.write(JSON.stringify({ port }) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mem') {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await sleep(100);
      }
      { const mu = process.memoryUsage(); const v8 = await import('node:v8'); const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((x) => [x.space_name, Math.round(x.space_size / 1024)])); if (process.env.BENCH_DEBUG) console.error(JSON.stringify(sp)); process.stdout.write(JSON.stringify({ rss: mu.rss, heap: mu.heapUsed, total: mu.heapTotal, ext: mu.external, stats: globalThis.__stats?.() }) + '\n'); }
    }
  }
}

/** The prober side: idle checks (netcheck's own tcp-idle / ws-idle) holding flows to a reflector. */
async function proberRole(kind, port) {
  const { runOne, makeLookup } = await import(new URL('engine/run.js', DIST).href);
  const probeKind = kind === 'prober-ws' ? 'ws-idle' : 'tcp-idle';
  const pending = [];
  let armed = 0;
  const alive = new Map();
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mem') {
      await memReply();
      continue;
    }
    const m = /^open (\d+)$/.exec(line);
    if (!m) continue;
    const want = Number(m[1]);
    // One check per step, its flows all armed at once with distinct 1 h gaps.
    const gapsMs = Array.from({ length: want }, (_, i) => 3_600_000 + armed + i);
    const id = `c${pending.length}`;
    const spec = { id, line: 'bench', kind: probeKind, host: '127.0.0.1', port, options: { gapsMs, requireMs: 3_600_000, setupMs: 60_000 }, timeoutMs: 2 * 3_600_000 };
    pending.push(runOne(spec, { lookup: makeLookup(), progress: (u) => alive.set(u.id, u.alive) }));
    armed += want;
    while ([...alive.values()].reduce((a, b) => a + b, 0) < armed) await sleep(50);
    process.stdout.write(JSON.stringify({ opened: armed }) + '\n');
  }
}

async function memReply() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(100);
  }
  const mu = process.memoryUsage();
  process.stdout.write(JSON.stringify({ rss: mu.rss, heap: mu.heapUsed, total: mu.heapTotal, ext: mu.external, stats: globalThis.__stats?.() }) + '\n');
}

async function clientRole(kind, port) {
  if (kind.startsWith('prober')) return proberRole(kind, port);
  const { encode, parse, REFLECTOR_DEFAULTS } = await import(new URL('reflector/protocol.js', DIST).href);
  const { WebSocket } = await import('ws');
  const held = [];
  const reflector = kind.startsWith('reflector');
  const ws = kind.endsWith('ws');
  let n = 0;
  const openOne = () =>
    new Promise((resolve, reject) => {
      const id = `f${n++}`;
      const hello = encode('HELLO', { n: id }, REFLECTOR_DEFAULTS.helloPadBytes, !ws);
      const arm = (t) => encode('ARM', { t, id, gap: 3_600_000 }, REFLECTOR_DEFAULTS.armPadBytes, !ws);
      if (ws) {
        const c = new WebSocket(`ws://127.0.0.1:${port}/netcheck`, { perMessageDeflate: false });
        held.push(c);
        c.once('error', reject);
        c.once('open', () => {
          if (!reflector) return resolve();
          c.send(hello.toString());
          c.on('message', (d) => {
            const m = parse(d);
            if (m.verb === 'TOKEN') c.send(arm(m.fields.t).toString());
            else if (m.verb === 'ARMED') resolve();
            else reject(new Error(`unexpected ${d}`));
          });
        });
      } else {
        const s = connect(port, '127.0.0.1');
        held.push(s);
        s.once('error', reject);
        s.once('connect', () => {
          if (!reflector) return resolve();
          s.write(hello);
          let buf = '';
          s.on('data', (d) => {
            buf += d;
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const m = parse(Buffer.from(buf.slice(0, nl + 1)));
              buf = buf.slice(nl + 1);
              if (m.verb === 'TOKEN') s.write(arm(m.fields.t));
              else if (m.verb === 'ARMED') resolve();
              else reject(new Error(`unexpected ${JSON.stringify(m)}`));
            }
          });
        });
      }
    });
  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'mem') {
      await memReply();
      continue;
    }
    const m = /^open (\d+)$/.exec(line);
    if (!m) continue;
    const want = Number(m[1]);
    for (let done = 0; done < want; ) {
      const batch = Math.min(200, want - done);
      await Promise.all(Array.from({ length: batch }, openOne));
      done += batch;
    }
    process.stdout.write(JSON.stringify({ opened: held.length }) + '\n');
  }
}

// ---------------------------------------------------------------------------------------------
/**
 * Holders run with V8's defaults, as users run netcheck. V8 grows the young generation (new space)
 * adaptively, up to 32 MiB, when a process allocates fast, as the reflector does while thousands of
 * flows arm at once; part of that one-time growth reads as "per-flow" memory. BENCH_FIXED_YOUNG=1
 * runs every holder (bare and netcheck alike) with the same fixed 1 MiB semi-spaces, to see what
 * each held flow costs without it.
 */
const YOUNG = process.env.BENCH_FIXED_YOUNG ? ['--min-semi-space-size=1', '--max-semi-space-size=1'] : [];

function child(args, measured = args[0] === 'server') {
  const c = spawn(process.execPath, ['--expose-gc', ...(measured ? YOUNG : []), SELF, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: c.stdout });
  const queue = [];
  const waiters = [];
  lines.on('line', (l) => (waiters.length ? waiters.shift()(JSON.parse(l)) : queue.push(JSON.parse(l))));
  return {
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))),
    send: (l) => c.stdin.write(l + '\n'),
    kill: () => c.kill('SIGKILL'),
  };
}

/**
 * Hold `low`, then more flows in equal steps up to `high`, measuring the holder's RSS after a GC
 * at each step; the per-flow cost is the least-squares slope (steadier than two points).
 */
async function memoryRun(kind, low, high, steps = 4) {
  // Prober kinds measure the client (netcheck's idle checks) against a reflector; bare-client
  // holds plain node:net / ws client sockets. The other kinds measure the server side.
  const side = kind.startsWith('prober') || kind.startsWith('bare-client') ? 'client' : 'server';
  const serverKind = kind === 'prober-tcp' ? 'reflector-tcp' : kind === 'prober-ws' ? 'reflector-ws' : kind === 'bare-client-tcp' ? 'bare-tcp' : kind === 'bare-client-ws' ? 'bare-ws' : kind;
  const server = child(['server', serverKind]);
  const { port } = await server.next();
  const client = child(['client', kind === 'bare-client-tcp' ? 'bare-tcp' : kind === 'bare-client-ws' ? 'bare-ws' : kind, String(port)], side === 'client');
  const measured = side === 'client' ? client : server;
  try {
    const points = [];
    let held = 0;
    for (let i = 0; i <= steps; i++) {
      const target = Math.round(low + ((high - low) * i) / steps);
      client.send(`open ${target - held}`);
      await client.next();
      held = target;
      await sleep(500);
      measured.send('mem');
      const m = await measured.next();
      if (kind.startsWith('reflector') && m.stats.flows !== held) throw new Error(`${kind}: expected ${held} armed flows, reflector holds ${m.stats.flows}`);
      points.push([held, m.rss]);
    }
    const n = points.length;
    const mx = points.reduce((a, p) => a + p[0], 0) / n;
    const my = points.reduce((a, p) => a + p[1], 0) / n;
    const slope = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0) / points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
    const first = points[0][1];
    const last = points[n - 1][1];
    return { kind, low, high, rssLowMiB: first / 2 ** 20, rssHighMiB: last / 2 ** 20, perFlowKiB: slope / 1024, twoPointKiB: (last - first) / (high - low) / 1024 };
  } finally {
    client.kill();
    server.kill();
  }
}

async function timerRun() {
  const { startReflector } = await import(new URL('reflector/server.js', DIST).href);
  const { runProbes, runOne, makeLookup } = await import(new URL('engine/run.js', DIST).href);
  const { idleCheckDeadlineMs } = await import(new URL('kinds/idle-options.js', DIST).href);
  const r = await startReflector({ tcpPorts: [0], udpPorts: [0], maxFlowsPerSource: 1000, ratePerSecond: 1000, rateBurst: 2000 });
  // Something for the load probes to hit: one open port, and closed ones (RST).
  const open = createServer((s) => s.destroy());
  await new Promise((res) => open.listen(0, '127.0.0.1', res));
  const openPort = open.address().port;
  const gaps = Array.from({ length: 12 }, (_, i) => `${(i + 1) * 1.5}s`);
  const specs = [];
  for (let k = 0; k < 3; k++) {
    for (const [kind, port] of [['tcp-idle', r.tcp[0]], ['udp-idle', r.udp[0]]]) {
      const options = { gaps, require: gaps.at(-1) };
      specs.push({ id: `${kind}-${k}`, line: 'bench', kind, host: '127.0.0.1', port, options, timeoutMs: idleCheckDeadlineMs(kind === 'tcp-idle' ? 'tcp' : 'udp', options) });
    }
  }
  let busy = true;
  let loadProbes = 0;
  let maxLagMs = 0;
  // Load 1: a continuous engine sweep of 256 loopback TCP probes at a time.
  const load = (async () => {
    while (busy) {
      const batch = Array.from({ length: 256 }, (_, i) => ({ id: `l${i}`, line: 'load', kind: 'tcp', host: '127.0.0.1', port: i % 4 === 0 ? openPort : 1 + (i % 1000), options: {}, timeoutMs: 1000 }));
      const res = await runProbes(batch, new Map(), { concurrency: 128, perHostConcurrency: 128, udpRecheckIntervalMs: 0 });
      loadProbes += res.results.length;
    }
  })();
  // Load 2: synchronous work in 5 ms slices every 50 ms (rendering progress, parsing answers).
  const burner = setInterval(() => {
    const t = performance.now();
    while (performance.now() - t < 5);
  }, 50);
  // The event-loop lag seen by a 10 ms timer, for the record.
  let last = performance.now();
  const lag = setInterval(() => {
    const now = performance.now();
    maxLagMs = Math.max(maxLagMs, now - last - 10);
    last = now;
  }, 10);
  // The naive way: count 100 ms ticks.
  let ticks = 0;
  const t0 = performance.now();
  const naive = setInterval(() => ticks++, 100);
  const outcomes = await Promise.all(specs.map((s) => runOne(s, { lookup: makeLookup() })));
  const elapsed = performance.now() - t0;
  clearInterval(naive);
  busy = false;
  clearInterval(burner);
  clearInterval(lag);
  await load;
  open.close();
  const stats = r.stats();
  await r.close();
  const late = outcomes.flatMap((o) => o.data.flows.map((f) => f.wakeLateMs)).filter((x) => typeof x === 'number');
  const states = outcomes.flatMap((o) => o.data.flows.map((f) => f.state));
  late.sort((a, b) => a - b);
  return {
    flows: states.length,
    survived: states.filter((s) => s === 'survived').length,
    clientLateMaxMs: late.at(-1),
    clientLateP50Ms: late[Math.floor(late.length / 2)],
    reflectorLateMaxMs: Math.round(stats.wakeLateMaxMs * 10) / 10,
    loadProbes,
    maxLoopLagMs: Math.round(maxLagMs),
    naiveDriftMs: Math.round(elapsed - ticks * 100),
    elapsedMs: Math.round(elapsed),
  };
}

async function main() {
  const high = Number(arg('flows', '5000'));
  const low = 1000;
  const mem = [];
  if (process.env.BENCH_TIMERS_ONLY) {
    console.log(await timerRun());
    return;
  }
  // Interleaved rounds, median per holder: these machines are shared and noisy.
  const runs = Number(arg('runs', '3'));
  const kinds = ['bare-tcp', 'reflector-tcp', 'bare-ws', 'reflector-ws', 'bare-client-tcp', 'prober-tcp', 'bare-client-ws', 'prober-ws'];
  const all = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let round = 0; round < runs; round++) for (const kind of kinds) all[kind].push(await memoryRun(kind, low, high));
  for (const kind of kinds) {
    const sorted = [...all[kind]].sort((a, b) => a.perFlowKiB - b.perFlowKiB);
    mem.push({ ...sorted[Math.floor(sorted.length / 2)], runsKiB: all[kind].map((m) => Math.round(m.perFlowKiB * 100) / 100) });
  }
  if (process.env.BENCH_MEM_ONLY) { console.log(mem); return; }
  const timers = await timerRun();
  const by = Object.fromEntries(mem.map((m) => [m.kind, m]));
  const verdicts = {
    tcpFlowKiB: { value: by['reflector-tcp'].perFlowKiB, bare: by['bare-tcp'].perFlowKiB, budget: 6.5 },
    wsFlowKiB: { value: by['reflector-ws'].perFlowKiB, bare: by['bare-ws'].perFlowKiB, budget: 18 },
    proberTcpFlowKiB: { value: by['prober-tcp'].perFlowKiB, bare: by['bare-client-tcp'].perFlowKiB, budget: 6.5 },
    proberWsFlowKiB: { value: by['prober-ws'].perFlowKiB, bare: by['bare-client-ws'].perFlowKiB, budget: 18 },
    gapLateMs: { value: Math.max(timers.clientLateMaxMs, timers.reflectorLateMaxMs), budget: 100 },
  };
  const ok = Object.values(verdicts).every((v) => v.value <= v.budget);
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ memory: mem, timers, verdicts, ok }, null, 2) + '\n');
  } else {
    const f = (x) => x.toFixed(2);
    console.log(`Idle flows held, ${low} → ${high} (extra RSS per flow in the holding process):`);
    for (const m of mem) console.log(`  ${m.kind.padEnd(16)} ${f(m.perFlowKiB).padStart(6)} KiB/flow (median of ${m.runsKiB.join(', ')}; RSS ${m.rssLowMiB.toFixed(1)} → ${m.rssHighMiB.toFixed(1)} MiB)`);
    for (const [k, v] of Object.entries(verdicts).filter(([k]) => k.endsWith('FlowKiB'))) console.log(`  ${k.padEnd(17)} ${f(v.value)} KiB (bare ${f(v.bare)}, budget ${v.budget}) ${v.value <= v.budget ? 'OK' : 'OVER'}`);
    console.log(`Timer accuracy under load (${timers.flows} flows, gaps 1.5–18 s, ${timers.loadProbes} load probes, loop lag up to ${timers.maxLoopLagMs} ms):`);
    console.log(`  send after the gap, latest past its deadline: reflector ${timers.reflectorLateMaxMs} ms, client ${timers.clientLateMaxMs} ms (median ${timers.clientLateP50Ms} ms); ${timers.survived}/${timers.flows} survived`);
    console.log(`  naive 100 ms setInterval counter drifted ${timers.naiveDriftMs} ms over ${(timers.elapsedMs / 1000).toFixed(1)} s`);
    console.log(`  every gap within +100 ms: ${verdicts.gapLateMs.value <= 100 ? 'OK' : 'OVER'}`);
  }
  process.exitCode = ok ? 0 : 1;
}

const role = process.argv[2];
if (role === 'server') await serverRole(process.argv[3]);
else if (role === 'client') await clientRole(process.argv[3], Number(process.argv[4]));
else await main();
