#!/usr/bin/env node
// netcheck benchmarks (`npm run bench`): the items issue 2 lists, each measured side by side in one
// run, as medians of several interleaved runs (these machines are noisy; never compare with a
// stored number). Every packet goes to loopback inside, or between, network namespaces this script
// creates (src/lab/netns.ts); nothing leaves the machine. Needs root, ip, nft; nmap and dnsmasq for
// the items that use them.
//
//   node bench/run.mjs [--runs 5] [--only i,ii,iii,iv,v,scale] [--udp-runs 3] [--out bench/results.json]
//
// `--only ii-contended` (not in the default set) runs (ii) with a CPU hog on every core, netcheck
// only, and counts spurious results: adaptive deadlines must not misjudge a busy host (issue 10).
//
// `--only scale` (in the default set too) is issue 14's scaling item (bench/scale.mjs): 1k–65k
// loopback targets, netcheck vs the raw node:net loop vs nmap -sT (process wall, sweep, peak RSS,
// CPU per probe, under GNU time), and the LivePerson --sweep shape vs nmap -sT -T4. Its options:
// --scale-prefixes 22,20,18,16, --scale-runs 3 (the fewest rounds per size: shorter sweeps get more,
// up to 25, see roundsFor in bench/scale.mjs), --no-liveperson, --scale-ablate (also netcheck with
// NETCHECK_STACK_TRACES=1).
//
// Prints a Markdown summary on stdout (BENCHMARKS.md quotes it) and writes every measurement to
// --out (default bench/results.json for the default set, else bench/results-<items>.json).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BIN, have, haveGnuTime, interleave, LISTENERS, log, machine, median, NODE, nmapScanned, nmapStates, r1, r2, RAW, ready, ROOT, sleep, timed } from './lib.mjs';
import { scaleItem } from './scale.mjs';

const labMod = await import(join(ROOT, 'dist/lab/netns.js'));
const ip = await import(join(ROOT, 'dist/util/ip.js'));
const { createLab, labSupport, statefulRuleset } = labMod;
const { expandCidr, parseCidr } = ip;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const DEFAULT_ITEMS = 'i,ii,iii,iv,v,scale';
const RUNS = Number(opt('runs', '5'));
const UDP_RUNS = Number(opt('udp-runs', '3'));
const ONLY_ARG = String(opt('only', DEFAULT_ITEMS));
const ONLY = new Set(ONLY_ARG.split(','));
const OUT = opt('out', join(ROOT, ONLY_ARG === DEFAULT_ITEMS ? 'bench/results.json' : `bench/results-${[...ONLY].join('+')}.json`));
const TMP = mkdtempSync(join(os.tmpdir(), 'ncbench-'));

const support = labSupport();
if (!support.ok) {
  process.stderr.write(`bench: cannot build the lab: ${support.why}\n`);
  process.exitCode = 2;
  process.exit();
}
if (ONLY.has('scale') && !haveGnuTime()) {
  process.stderr.write('bench: the scale item needs GNU time for peak RSS and CPU (apt-get install -y time)\n');
  process.exitCode = 2;
  process.exit();
}
const HAVE_NMAP = have('nmap');
if (!HAVE_NMAP) process.stderr.write('bench: nmap not installed (apt-get install -y nmap): nmap columns are skipped\n');

async function netcheck(lab, argv, timeoutMs) {
  const r = await timed(lab, 'client', [NODE, BIN, ...argv, '--json', '--quiet'], timeoutMs);
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`netcheck ${argv.join(' ')} printed no JSON (exit ${r.code}): ${r.stderr.slice(0, 1000)}`);
  }
  return { wallMs: r.wallMs, report };
}

const results = { date: new Date().toISOString(), machine: machine(), runs: RUNS, items: {} };
const md = [];

// ---------------------------------------------------------------------------------------------
// (i) 4,094 loopback targets, 1 in 8 listening: netcheck vs raw node:net (c=256) vs nmap -sT
// ---------------------------------------------------------------------------------------------
async function itemI() {
  const CIDR = '127.1.0.0/20';
  const PORT = 9000;
  const hosts = expandCidr(parseCidr(CIDR), 65536);
  const listening = new Set(hosts.filter((_, i) => i % 8 === 2));
  const expected = (h) => (listening.has(h) ? 'ok' : 'refused');
  const hostsFile = join(TMP, 'loopback-hosts.txt');
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  // Loopback of a namespace of our own: 127.0.0.0/8 is local there, and other engineers' tests
  // on the host's loopback neither disturb nor are disturbed by the sweep.
  const lab = await createLab();
  try {
    await ready(lab.spawn('client', [NODE, LISTENERS, JSON.stringify({ tcp: [{ addrs: [...listening], ports: [PORT] }] })]));
    const tools = {
      raw: async () => {
        const r = await timed(lab, 'client', [NODE, RAW, JSON.stringify({ hosts, port: PORT, concurrency: 256, timeoutMs: 3000 })]);
        const { ms, counts } = JSON.parse(r.stdout);
        const spurious = Math.abs((counts.open ?? 0) - listening.size) + (counts.timeout ?? 0) + Object.entries(counts).filter(([k]) => k !== 'open' && k !== 'ECONNREFUSED' && k !== 'timeout').reduce((a, [, n]) => a + n, 0);
        return { wallMs: r.wallMs, sweepMs: ms, spurious };
      },
      netcheck: async () => {
        const { wallMs, report } = await netcheck(lab, ['probe', 'tcp', `${CIDR}:${PORT}`, '--no-control']);
        if (report.probes.length !== hosts.length) throw new Error(`netcheck probed ${report.probes.length} of ${hosts.length}`);
        const spurious = report.probes.filter((p) => p.status !== expected(p.host)).length;
        return { wallMs, sweepMs: report.durationMs, spurious, adaptive: report.probes.filter((p) => p.data?.adaptiveDeadline).length };
      },
      ...(HAVE_NMAP
        ? {
            nmap: async () => {
              const r = await timed(lab, 'client', ['nmap', '-sT', '-Pn', '-n', '-p', String(PORT), '-iL', hostsFile, '-oG', '-']);
              const st = nmapStates(r.stdout);
              const spurious = hosts.filter((h) => (st.get(h)?.get(PORT) === 'open' ? 'ok' : st.get(h)?.get(PORT) === 'closed' ? 'refused' : 'other') !== expected(h)).length;
              return { wallMs: r.wallMs, sweepMs: nmapScanned(r.stdout), spurious };
            },
          }
        : {}),
    };
    const data = await interleave(tools, RUNS, 'i');
    const N = hosts.length;
    const rate = (ms) => Math.round(N / (ms / 1000));
    const med = (t, k) => median(data[t].map((x) => x[k]));
    const rows = Object.keys(tools).map((t) => ({
      tool: t,
      sweepMs: r1(med(t, 'sweepMs')),
      wallMs: r1(med(t, 'wallMs')),
      probesPerSecSweep: rate(med(t, 'sweepMs')),
      probesPerSecWall: rate(med(t, 'wallMs')),
      spuriousTotal: data[t].reduce((a, x) => a + x.spurious, 0),
    }));
    const ratioSweep = r2(median(data.netcheck.map((x, i) => data.raw[i].sweepMs / x.sweepMs)));
    const ratioWall = r2(median(data.netcheck.map((x, i) => data.raw[i].wallMs / x.wallMs)));
    results.items.i = { targets: N, listening: listening.size, data, rows, ratioSweep, ratioWall };
    md.push(
      `### (i) ${N} loopback targets (${CIDR} port ${PORT}, ${listening.size} listening, rest closed), ${RUNS} interleaved runs`,
      '',
      '| tool | sweep ms (median) | probes/s (sweep) | process wall ms (median) | probes/s (wall) | spurious (all runs) |',
      '|---|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.tool} | ${r.sweepMs} | ${r.probesPerSecSweep} | ${r.wallMs} | ${r.probesPerSecWall} | ${r.spuriousTotal} |`),
      '',
      `netcheck ÷ raw node:net, median of per-run ratios: **${ratioSweep}×** on sweep time (engine vs the raw loop), ${ratioWall}× on process wall time. Target ≥ 0.7×, 0 spurious.`,
      '',
    );
  } finally {
    await lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// (ii) the same sweep through the lab firewall, which drops every odd address: netcheck vs nmap -sT -T4
// ---------------------------------------------------------------------------------------------
/**
 * Busy loops on every core (in the root namespace: they send nothing), so netcheck competes for
 * CPU as on a loaded host. Returns a stop function that kills exactly these children.
 */
function cpuHogs() {
  const hogs = os.cpus().map(() => spawn(NODE, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    count: hogs.length,
    stop: () => {
      for (const h of hogs) if (h.exitCode === null && h.signalCode === null) h.kill('SIGKILL');
    },
  };
}

async function itemII({ contended = false } = {}) {
  const tag = contended ? 'ii-contended' : 'ii';
  const CIDR = '10.201.0.0/20';
  const PORT = 9000;
  const hosts = expandCidr(parseCidr(CIDR), 65536);
  const odd = (h) => Number(h.split('.')[3]) % 2 === 1;
  const listening = new Set(hosts.filter((h, i) => !odd(h) && i % 8 === 1));
  const expected = (h) => (odd(h) ? 'filtered' : listening.has(h) ? 'ok' : 'refused');
  const hostsFile = join(TMP, 'fw-hosts.txt');
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  const lab = await createLab({ ruleset: statefulRuleset(`ip daddr ${CIDR} ip daddr & 0.0.0.1 == 0.0.0.1 drop`) });
  try {
    // The whole /20 is local in the server namespace (no 4,096 addresses to add one by one).
    for (const [ns, argv] of [
      ['server', ['ip', 'route', 'add', 'local', CIDR, 'dev', 'lo']],
      ['firewall', ['ip', 'route', 'add', CIDR, 'via', lab.addr.server]],
    ]) {
      const r = await lab.exec(ns, argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    await ready(lab.spawn('server', [NODE, LISTENERS, JSON.stringify({ tcp: [{ addrs: [...listening], ports: [PORT] }] })]));
    const tools = {
      netcheck: async () => {
        const { wallMs, report } = await netcheck(lab, ['probe', 'tcp', `${CIDR}:${PORT}`, '--no-control']);
        const wrong = report.probes.filter((p) => p.status !== expected(p.host));
        const adaptive = report.probes.filter((p) => p.data?.adaptiveDeadline);
        const loopDelays = adaptive.flatMap((p) => [p.data.adaptiveDeadline.loopDelayMs ?? 0]);
        return {
          wallMs,
          sweepMs: report.durationMs,
          spurious: wrong.length,
          // What the spurious results were (e.g. "filtered" for a listening address), for the record.
          spuriousAs: [...wrong.reduce((m, p) => m.set(`${expected(p.host)}→${p.status}`, (m.get(`${expected(p.host)}→${p.status}`) ?? 0) + 1), new Map())].map(([k, v]) => `${k} ×${v}`),
          adaptiveCut: adaptive.length,
          retried: report.probes.filter((p) => p.attempts > 1).length,
          deadlinesMs: [...new Set(adaptive.map((p) => p.data.adaptiveDeadline.deadlinesMs.join('+')))].slice(0, 5),
          maxLoopDelayMs: loopDelays.length ? Math.max(...loopDelays) : 0,
        };
      },
      ...(HAVE_NMAP && !contended
        ? {
            nmap: async () => {
              const r = await timed(lab, 'client', ['nmap', '-sT', '-T4', '-Pn', '-n', '-p', String(PORT), '-iL', hostsFile, '-oG', '-']);
              const st = nmapStates(r.stdout);
              const map = { open: 'ok', closed: 'refused', filtered: 'filtered' };
              const spurious = hosts.filter((h) => map[st.get(h)?.get(PORT)] !== expected(h)).length;
              return { wallMs: r.wallMs, sweepMs: nmapScanned(r.stdout), spurious };
            },
          }
        : {}),
    };
    let hogs;
    let data;
    try {
      if (contended) {
        hogs = cpuHogs();
        log(`bench (${tag}): ${hogs.count} CPU hogs busy (one per core) for the whole item`);
      }
      data = await interleave(tools, RUNS, tag);
    } finally {
      hogs?.stop();
    }
    const med = (t, k) => r1(median(data[t].map((x) => x[k])));
    if (contended) {
      const n = data.netcheck;
      results.items['ii-contended'] = { targets: hosts.length, dropped: hosts.filter(odd).length, listening: listening.size, hogs: os.cpus().length, loadavgAtEnd: os.loadavg().map(r2), data };
      md.push(
        `### (ii-contended) the (ii) sweep with a CPU hog busy on each of the ${os.cpus().length} cores, ${RUNS} runs (+1 warm-up)`,
        '',
        '| runs | spurious (all runs) | process wall ms (median) | own sweep ms (median) | probes cut by an adaptive deadline (median) | retried (median) | largest event-loop delay not counted (ms, per run) |',
        '|---:|---:|---:|---:|---:|---:|---|',
        `| ${n.length} | **${n.reduce((a, x) => a + x.spurious, 0)}** | ${med('netcheck', 'wallMs')} | ${med('netcheck', 'sweepMs')} | ${med('netcheck', 'adaptiveCut')} | ${med('netcheck', 'retried')} | ${n.map((x) => x.maxLoopDelayMs).join(', ')} |`,
        '',
        `Adaptive deadlines seen in the last run: ${JSON.stringify(n.at(-1).deadlinesMs)} ms. Spurious results by kind: ${JSON.stringify(n.flatMap((x) => x.spuriousAs))}.`,
        '',
      );
      return;
    }
    const ratio = HAVE_NMAP ? r2(median(data.netcheck.map((x, i) => x.wallMs / data.nmap[i].wallMs))) : NaN;
    results.items.ii = { targets: hosts.length, dropped: hosts.filter(odd).length, listening: listening.size, data, ratio };
    md.push(
      `### (ii) ${hosts.length} targets through the lab firewall (${hosts.filter(odd).length} dropped, ${listening.size} listening, rest closed), ${RUNS} interleaved runs`,
      '',
      '| tool | process wall ms (median) | own sweep ms (median) | spurious (all runs) |',
      '|---|---:|---:|---:|',
      ...Object.keys(tools).map((t) => `| ${t === 'nmap' ? 'nmap -sT -T4' : t} | ${med(t, 'wallMs')} | ${med(t, 'sweepMs')} | ${data[t].reduce((a, x) => a + x.spurious, 0)} |`),
      '',
      `netcheck ÷ nmap -sT -T4 wall time, median of per-run ratios: **${ratio}×** (target ≤ 1.0×). ` +
        `Adaptive deadlines seen in the last run: ${JSON.stringify(data.netcheck.at(-1).deadlinesMs)} ms on ${data.netcheck.at(-1).adaptiveCut} probes.`,
      '',
    );
  } finally {
    await lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// (iii) UDP 4201-4264, all closed: loopback, then through the firewall with kernel-default ICMP limits
// ---------------------------------------------------------------------------------------------
async function itemIII() {
  const lab = await createLab({ ruleset: statefulRuleset() });
  try {
    const loop = [];
    for (let i = -1; i < RUNS; i++) {
      const { wallMs, report } = await netcheck(lab, ['probe', 'udp', '127.0.0.1:4201-4264', '--no-control']);
      const x = { wallMs, sweepMs: report.durationMs, refused: report.probes.filter((p) => p.status === 'refused').length };
      if (i >= 0) loop.push(x);
      log(`bench (iii loopback) ${i < 0 ? 'warm-up' : `run ${i + 1}`}: ${JSON.stringify(x)}`);
    }
    const rl = await lab.exec('server', ['cat', '/proc/sys/net/ipv4/icmp_ratelimit']);
    const burst = await lab.exec('server', ['cat', '/proc/sys/net/ipv4/icmp_msgs_burst']);
    const S = lab.addr.server;
    const tools = {
      netcheck: async () => {
        const { wallMs, report } = await netcheck(lab, ['probe', 'udp', `${S}:4201-4264`, '--no-control'], 600_000);
        const c = {};
        for (const p of report.probes) c[p.status] = (c[p.status] ?? 0) + 1;
        return { wallMs, sweepMs: report.durationMs, refused: c.refused ?? 0, silent: c['open|filtered'] ?? 0, statuses: c };
      },
      ...(HAVE_NMAP
        ? {
            nmap: async () => {
              const r = await timed(lab, 'client', ['nmap', '-sU', '-Pn', '-n', '-p4201-4264', S, '-oG', '-']);
              const st = nmapStates(r.stdout).get(S) ?? new Map();
              // -oG lists only "interesting" ports when most share one state: count the rest from the summary.
              const ignored = /Ignored State: (\S+) \((\d+)\)/.exec(r.stdout);
              const c = {};
              for (const s of st.values()) c[s] = (c[s] ?? 0) + 1;
              if (ignored) c[ignored[1]] = (c[ignored[1]] ?? 0) + Number(ignored[2]);
              return { wallMs: r.wallMs, sweepMs: nmapScanned(r.stdout), refused: c.closed ?? 0, silent: c['open|filtered'] ?? 0, statuses: c };
            },
          }
        : {}),
    };
    // Let the ICMP token bucket refill between tools, so neither starts with the other's debt.
    const paced = Object.fromEntries(Object.entries(tools).map(([k, f]) => [k, async () => (await sleep(8000), f())]));
    // No warm-up round here: each run takes about a minute and there is nothing to warm up in the kernel's ICMP limiter.
    const data = await interleave(paced, UDP_RUNS, 'iii firewall', false);
    const med = (t, k) => r1(median(data[t].map((x) => x[k])));
    const ratio = HAVE_NMAP ? r2(median(data.netcheck.map((x, i) => x.wallMs / data.nmap[i].wallMs))) : NaN;
    results.items.iii = { loopback: loop, firewall: data, icmpRatelimitMs: rl.stdout.trim(), icmpMsgsBurst: burst.stdout.trim(), ratio };
    md.push(
      `### (iii) UDP 4201-4264, every port closed`,
      '',
      `Loopback (${RUNS} runs): median engine time **${med0(loop, 'sweepMs')} ms** for 64 probes (target ≤ 100 ms), ` +
        `process wall ${med0(loop, 'wallMs')} ms; refused per run: ${loop.map((x) => x.refused).join(', ')} of 64.`,
      '',
      `Through the lab firewall, server namespace at kernel defaults (icmp_ratelimit ${rl.stdout.trim()} ms, icmp_msgs_burst ${burst.stdout.trim()}), ${UDP_RUNS} interleaved runs:`,
      '',
      '| tool | process wall ms (median) | refused / closed (per run) | open\\|filtered (per run) |',
      '|---|---:|---|---|',
      ...Object.keys(tools).map((t) => `| ${t === 'nmap' ? 'nmap -sU' : t} | ${med(t, 'wallMs')} | ${data[t].map((x) => x.refused).join(', ')} | ${data[t].map((x) => x.silent).join(', ')} |`),
      '',
      `netcheck ÷ nmap -sU wall time, median of per-run ratios: **${ratio}×** (target ≤ 1.0×, every port classified correctly or honestly open|filtered).`,
      '',
    );
  } finally {
    await lab.destroy();
  }
}
const med0 = (xs, k) => r1(median(xs.map((x) => x[k])));

// ---------------------------------------------------------------------------------------------
// (iv) an ESChat-shaped catalog against a lab where some targets are dropped: wall time vs timeout
// ---------------------------------------------------------------------------------------------
async function itemIV() {
  const NET = '10.203.0.0/16';
  const TIMEOUT_MS = 3000;
  const drops = [
    'ip daddr 10.203.2.1 drop', // provisioning DR: silently dropped
    'ip daddr 10.203.3.2 drop', // one signaling server
    'ip daddr 10.203.5.0/24 drop', // every DR data server: UDP silence
    'tcp dport 5223 drop', // APNS 5223
  ].join('\n');
  const lab = await createLab({ ruleset: statefulRuleset(drops) });
  try {
    for (const [ns, argv] of [
      ['server', ['ip', 'route', 'add', 'local', NET, 'dev', 'lo']],
      ['firewall', ['ip', 'route', 'add', NET, 'via', lab.addr.server]],
    ]) {
      const r = await lab.exec(ns, argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    const dataPorts = range(4201, 4264);
    await ready(
      lab.spawn('server', [
        NODE,
        LISTENERS,
        JSON.stringify({
          // 0.0.0.0 accepts TCP for every address of the local /16.
          tcp: [{ addrs: ['0.0.0.0'], ports: [80, 443, 7400, 5223] }],
          udp: [{ addrs: ['10.203.4.1', '10.203.4.2', '10.203.4.3'], ports: dataPorts }],
        }),
      ]),
    );
    if (!have('dnsmasq')) throw new Error('item (iv) needs dnsmasq (apt-get install -y --no-install-recommends dnsmasq-base)');
    const dnsmasq = lab.spawn('server', ['dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--port=53', `--listen-address=${lab.addr.server}`, '--bind-interfaces', '--address=/maps.lab.test/10.203.7.1', '--address=/fonts.lab.test/10.203.7.2', '--pid-file=', '--log-facility=-']);
    dnsmasq.stderr.on('data', () => {});
    await sleep(500);
    const catalog = join(ROOT, 'bench/eschat-lab.yaml');
    const argv = ['run', '--catalog', catalog, '--signaling-port', '7400', '--control', '10.200.2.99:443', '--timeout', `${TIMEOUT_MS}ms`, '--dns-server', lab.addr.server];
    const data = [];
    for (let i = -1; i < RUNS; i++) {
      const { wallMs, report } = await netcheck(lab, argv);
      const x = {
        wallMs,
        engineMs: report.durationMs,
        probes: report.probes.length,
        verdicts: Object.fromEntries(report.lines.map((l) => [l.id, l.verdict])),
        statuses: report.summary.statuses,
        slowestMs: Math.max(...report.probes.map((p) => p.durationMs)),
      };
      if (i >= 0) data.push(x);
      log(`bench (iv) ${i < 0 ? 'warm-up' : `run ${i + 1}`}: ${JSON.stringify(x)}`);
    }
    const wall = median(data.map((x) => x.wallMs));
    const eng = median(data.map((x) => x.engineMs));
    results.items.iv = { timeoutMs: TIMEOUT_MS, data, ratioWall: r2(wall / TIMEOUT_MS), ratioEngine: r2(eng / TIMEOUT_MS) };
    md.push(
      `### (iv) ESChat-shaped catalog (bench/eschat-lab.yaml, ${data[0].probes} probes) with some targets dropped, timeout ${TIMEOUT_MS} ms, ${RUNS} runs`,
      '',
      `Median process wall time **${r1(wall)} ms = ${r2(wall / TIMEOUT_MS)}× the probe timeout** (target ≤ 1.3×); engine time ${r1(eng)} ms = ${r2(eng / TIMEOUT_MS)}×.`,
      `Statuses: ${JSON.stringify(data[0].statuses)}. Verdicts: ${JSON.stringify(data[0].verdicts)}.`,
      '',
    );
  } finally {
    await lab.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// (v) start-up: netcheck --version vs node -e 0
// ---------------------------------------------------------------------------------------------
async function itemV() {
  const n = Math.max(10, RUNS * 4);
  const run = (argv) => {
    const t0 = performance.now();
    const r = spawnSync(NODE, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  const a = [];
  const b = [];
  run([BIN, '--version']);
  run(['-e', '0']);
  for (let i = 0; i < n; i++) {
    if (i % 2) {
      a.push(run([BIN, '--version']));
      b.push(run(['-e', '0']));
    } else {
      b.push(run(['-e', '0']));
      a.push(run([BIN, '--version']));
    }
  }
  const ratio = r2(median(a) / median(b));
  results.items.v = { n, netcheckMs: a.map(r1), nodeMs: b.map(r1), ratio };
  md.push(
    `### (v) start-up, ${n} interleaved runs`,
    '',
    `\`node bin/netcheck.js --version\` median **${r1(median(a))} ms** vs \`node -e 0\` ${r1(median(b))} ms: **${ratio}×** (target ≤ 2×).`,
    '',
  );
}

try {
  md.push(`## Results — ${results.date}`, '', `Machine: ${results.machine.cpu}, ${results.machine.memGiB} GiB, Linux ${results.machine.kernel}, Node ${results.machine.node}, ${results.machine.nmap}; load average at start ${results.machine.loadavg.join(' ')}.`, '');
  if (ONLY.has('i')) await itemI();
  if (ONLY.has('ii')) await itemII();
  if (ONLY.has('ii-contended')) await itemII({ contended: true });
  if (ONLY.has('iii')) await itemIII();
  if (ONLY.has('iv')) await itemIV();
  if (ONLY.has('v')) await itemV();
  if (ONLY.has('scale')) {
    await scaleItem({
      lab: labMod,
      ip,
      tmp: TMP,
      runs: Number(opt('scale-runs', '3')),
      prefixes: String(opt('scale-prefixes', '22,20,18,16')).split(',').map(Number),
      liveperson: !args.includes('--no-liveperson'),
      ablate: args.includes('--scale-ablate'),
      results,
      md,
    });
  }
} finally {
  rmSync(TMP, { recursive: true, force: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${md.join('\n')}\n`);
}
