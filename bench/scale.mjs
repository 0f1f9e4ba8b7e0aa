#!/usr/bin/env node
// netcheck scaling benchmark (issue 14): does the whole process cost grow linearly with the sweep?
// Every packet stays inside network namespaces this script creates (src/lab/netns.ts).
//
//   node bench/scale.mjs [--prefixes 22,20,18,16] [--runs 3] [--no-liveperson] [--out bench/scale-results.json]
//
// (a) every address of a /22, /20, /18, /16 (1,022 to 65,534 targets) on the loopback of a namespace
//     of our own (127.64.0.0/…, 1 in 8 listening, the rest closed):
//     netcheck `probe tcp CIDR:PORT` vs the raw node:net loop (bench/raw-sweep.mjs) vs nmap -sT,
//     interleaved rounds: process wall, sweep time, peak RSS, CPU per probe (GNU time).
// (b) the LivePerson --sweep shape: 9 /22 ranges × TCP 80/443 (18,396 probes) through the lab
//     firewall, which drops every odd address; netcheck run --sweep vs nmap -sT -T4.
// Prints Markdown on stdout (BENCHMARKS.md quotes it) and writes every measurement to --out.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/netcheck.js');
const NODE = process.execPath;
const LISTENERS = join(ROOT, 'bench/listeners.mjs');
const RAW = join(ROOT, 'bench/raw-sweep.mjs');
const { createLab, labSupport, statefulRuleset } = await import(join(ROOT, 'dist/lab/netns.js'));
const { expandCidr, parseCidr } = await import(join(ROOT, 'dist/util/ip.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const PREFIXES = String(opt('prefixes', '22,20,18,16')).split(',').map(Number);
const RUNS = Number(opt('runs', '3'));
const LIVEPERSON = !args.includes('--no-liveperson');
const OUT = opt('out', join(ROOT, 'bench/scale-results.json'));
const TMP = mkdtempSync(join(os.tmpdir(), 'ncscale-'));
const TIME = ['/usr/bin/time', '-f', 'NCTIME %e %M %U %S'];

const support = labSupport();
if (!support.ok) {
  process.stderr.write(`bench: cannot build the lab: ${support.why}\n`);
  process.exit(2);
}
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
if (!have('/usr/bin/time')) {
  process.stderr.write('bench: GNU time is needed for peak RSS and CPU (apt-get install -y time)\n');
  process.exit(2);
}
const HAVE_NMAP = have('nmap');
if (!HAVE_NMAP) process.stderr.write('bench: nmap not installed (apt-get install -y nmap): nmap columns are skipped\n');

const log = (s) => process.stderr.write(`${s}\n`);
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const r1 = (x) => Math.round(x * 10) / 10;
const r2 = (x) => Math.round(x * 100) / 100;
const fmt = (n) => n.toLocaleString('en-US');

/** Run argv under GNU time in a lab namespace: wall (ms), peak RSS (MiB), CPU (ms), output. */
async function measured(lab, ns, argv, timeoutMs = 900_000) {
  const r = await lab.exec(ns, [...TIME, ...argv], { timeoutMs });
  const m = /NCTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`${argv.join(' ').slice(0, 200)}: no timing (exit ${r.code}): ${r.stderr.slice(-1000)}`);
  return { stdout: r.stdout, code: r.code, wallMs: Number(m[1]) * 1000, rssMiB: r1(Number(m[2]) / 1024), cpuMs: (Number(m[3]) + Number(m[4])) * 1000 };
}

/** nmap -oG: host → port → state. */
function nmapStates(stdout) {
  const out = new Map();
  for (const line of stdout.split('\n')) {
    const host = /^Host: (\S+) /.exec(line)?.[1];
    const field = line.split('\t').find((f) => f.startsWith('Ports: '));
    if (!host || !field) continue;
    const ports = new Map();
    for (const p of field.slice('Ports: '.length).split(/,\s*/)) {
      if (!p.trim()) continue;
      const [port, state] = p.split('/');
      ports.set(Number(port), state);
    }
    out.set(host, ports);
  }
  return out;
}
const nmapScanned = (stdout) => Number(/scanned in ([\d.]+) seconds/.exec(stdout)?.[1] ?? NaN) * 1000;

function ready(child) {
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
    });
    child.once('exit', (c) => reject(new Error(`fixture exited (${c}): ${err}`)));
  });
}

/** Each tool once per round, the order rotated each round; one warm-up round is discarded. */
async function interleave(tools, runs, tag) {
  const names = Object.keys(tools);
  const data = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -1; round < runs; round++) {
    const order = names.map((_, i) => names[(i + Math.max(round, 0)) % names.length]);
    for (const n of order) {
      const x = await tools[n]();
      if (round >= 0) data[n].push(x);
      log(`bench (${tag}) ${round < 0 ? 'warm-up' : `run ${round + 1}/${runs}`} ${n}: ${JSON.stringify(x)}`);
    }
  }
  return data;
}

/** Every host address of 127.64.0.0/prefix. */
function loopbackTargets(prefix) {
  const cidr = `127.64.0.0/${prefix}`;
  return { cidr, hosts: expandCidr(parseCidr(cidr), 1 << 20) };
}

const results = { date: new Date().toISOString(), machine: { cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`, node: process.version, loadavg: os.loadavg().map(r2) }, runs: RUNS, sizes: {}, liveperson: undefined };
const md = [];

async function sizeItem(prefix) {
  const { cidr, hosts } = loopbackTargets(prefix);
  const n = hosts.length;
  const PORT = 9000;
  const listening = new Set(hosts.filter((_, i) => i % 8 === 2));
  const expected = (h) => (listening.has(h) ? 'ok' : 'refused');
  const hostsFile = join(TMP, `hosts-${n}.txt`);
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  const rawArgs = join(TMP, `raw-${n}.json`);
  writeFileSync(rawArgs, JSON.stringify({ hosts, port: PORT, concurrency: 256, timeoutMs: 3000 }));
  const lab = await createLab();
  try {
    await ready(lab.spawn('client', [NODE, LISTENERS, JSON.stringify({ tcp: [{ addrs: [...listening], ports: [PORT] }] })]));
    const tools = {
      raw: async () => {
        const r = await measured(lab, 'client', [NODE, RAW, `@${rawArgs}`]);
        const { ms, counts } = JSON.parse(r.stdout);
        const spurious = Math.abs((counts.open ?? 0) - listening.size) + Object.entries(counts).filter(([k]) => k !== 'open' && k !== 'ECONNREFUSED').reduce((a, [, v]) => a + v, 0);
        return { wallMs: r1(r.wallMs), sweepMs: r1(ms), rssMiB: r.rssMiB, cpuUsPerProbe: r1((r.cpuMs * 1000) / n), spurious };
      },
      netcheck: async () => {
        const r = await measured(lab, 'client', [NODE, BIN, 'probe', 'tcp', `${cidr}:${PORT}`, '--no-control', '--json', '--quiet', '--max-targets', String(n)]);
        const report = JSON.parse(r.stdout);
        if (report.probes.length !== n) throw new Error(`netcheck probed ${report.probes.length} of ${n}`);
        const spurious = report.probes.filter((p) => p.status !== expected(p.host)).length;
        return { wallMs: r1(r.wallMs), sweepMs: r1(report.durationMs), rssMiB: r.rssMiB, cpuUsPerProbe: r1((r.cpuMs * 1000) / report.probes.length), probes: report.probes.length, spurious, jsonBytes: Buffer.byteLength(r.stdout) };
      },
      ...(HAVE_NMAP
        ? {
            nmap: async () => {
              const r = await measured(lab, 'client', ['nmap', '-sT', '-Pn', '-n', '-p', String(PORT), '-iL', hostsFile, '-oG', '-']);
              const st = nmapStates(r.stdout);
              const spurious = hosts.filter((h) => (st.get(h)?.get(PORT) === 'open' ? 'ok' : st.get(h)?.get(PORT) === 'closed' ? 'refused' : 'other') !== expected(h)).length;
              return { wallMs: r1(r.wallMs), sweepMs: r1(nmapScanned(r.stdout)), rssMiB: r.rssMiB, cpuUsPerProbe: r1((r.cpuMs * 1000) / n), spurious };
            },
          }
        : {}),
    };
    const data = await interleave(tools, RUNS, `${n}`);
    const med = (t, k) => r1(median(data[t].map((x) => x[k])));
    const ratio = (f) => r2(median(data.netcheck.map(f)));
    const row = {
      targets: n,
      cidr,
      listening: listening.size,
      data,
      wallOverSweep: ratio((x) => x.wallMs / x.sweepMs),
      sweepVsRaw: ratio((x, i) => data.raw[i].sweepMs / x.sweepMs),
      wallVsRaw: ratio((x, i) => data.raw[i].wallMs / x.wallMs),
      ...(HAVE_NMAP ? { wallVsNmap: ratio((x, i) => data.nmap[i].wallMs / x.wallMs) } : {}),
      med: Object.fromEntries(Object.keys(tools).map((t) => [t, { wallMs: med(t, 'wallMs'), sweepMs: med(t, 'sweepMs'), rssMiB: med(t, 'rssMiB'), cpuUsPerProbe: med(t, 'cpuUsPerProbe'), spurious: data[t].reduce((a, x) => a + x.spurious, 0) }])),
    };
    results.sizes[prefix] = row;
    return row;
  } finally {
    await lab.destroy();
  }
}

/** 9 /22 ranges × TCP 80/443 through the lab firewall, odd addresses dropped, even ones open. */
async function livepersonItem() {
  const ranges = Array.from({ length: 9 }, (_, i) => `10.${210 + i}.0.0/22`);
  const hosts = ranges.flatMap((c) => expandCidr(parseCidr(c), 4096));
  const odd = (h) => Number(h.split('.')[3]) % 2 === 1;
  const expected = (h) => (odd(h) ? 'filtered' : 'ok');
  const catalog = join(TMP, 'liveperson-shape.yaml');
  writeFileSync(
    catalog,
    `schema: netcheck/catalog/v1\nid: liveperson-shape\ntitle: LivePerson-shaped sweep (bench)\nsource: bench/scale.mjs\nsections:\n  - id: ranges\n    name: Ranges\n    lines:\n` +
      ranges.map((c, i) => `      - id: r${i}\n        description: range ${c}\n        targets: [${c}]\n        ports: [80, 443]\n        checks: [{ kind: tcp }]\n`).join(''),
  );
  const hostsFile = join(TMP, 'lp-hosts.txt');
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  const lab = await createLab({ ruleset: statefulRuleset('ip daddr 10.208.0.0/12 ip daddr & 0.0.0.1 == 0.0.0.1 drop') });
  try {
    for (const [ns, argv] of [
      ['server', ['ip', 'route', 'add', 'local', '10.208.0.0/12', 'dev', 'lo']],
      ['firewall', ['ip', 'route', 'add', '10.208.0.0/12', 'via', lab.addr.server]],
    ]) {
      const r = await lab.exec(ns, argv);
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    }
    // Listeners on the wildcard address answer for every local address of the ranges.
    await ready(lab.spawn('server', [NODE, LISTENERS, JSON.stringify({ tcp: [{ addrs: ['0.0.0.0'], ports: [80, 443] }] })]));
    const tools = {
      netcheck: async () => {
        const r = await measured(lab, 'client', [NODE, BIN, 'run', '--catalog', catalog, '--sweep', '--no-control', '--json', '--quiet', '--timeout', '3s']);
        const report = JSON.parse(r.stdout);
        const spurious = report.probes.filter((p) => p.status !== expected(p.host)).length;
        return { wallMs: r1(r.wallMs), sweepMs: r1(report.durationMs), rssMiB: r.rssMiB, probes: report.probes.length, spurious };
      },
      ...(HAVE_NMAP
        ? {
            nmap: async () => {
              const r = await measured(lab, 'client', ['nmap', '-sT', '-T4', '-Pn', '-n', '-p', '80,443', '-iL', hostsFile, '-oG', '-']);
              const st = nmapStates(r.stdout);
              const map = { open: 'ok', closed: 'refused', filtered: 'filtered' };
              let spurious = 0;
              for (const h of hosts) for (const port of [80, 443]) if (map[st.get(h)?.get(port)] !== expected(h)) spurious++;
              return { wallMs: r1(r.wallMs), sweepMs: r1(nmapScanned(r.stdout)), rssMiB: r.rssMiB, spurious };
            },
          }
        : {}),
    };
    const data = await interleave(tools, RUNS, 'liveperson');
    const ratio = HAVE_NMAP ? r2(median(data.netcheck.map((x, i) => x.wallMs / data.nmap[i].wallMs))) : NaN;
    results.liveperson = { probes: hosts.length * 2, dropped: hosts.filter(odd).length * 2, data, ratio };
    const med = (t, k) => r1(median(data[t].map((x) => x[k])));
    md.push(
      `### LivePerson --sweep shape: ${fmt(hosts.length * 2)} probes (9 /22 × TCP 80/443) through the lab firewall, odd addresses dropped, ${RUNS} interleaved runs`,
      '',
      '| tool | process wall ms | own sweep ms | peak RSS MiB | spurious (all runs) |',
      '|---|---:|---:|---:|---:|',
      ...Object.keys(tools).map((t) => `| ${t === 'nmap' ? 'nmap -sT -T4' : t} | ${med(t, 'wallMs')} | ${med(t, 'sweepMs')} | ${med(t, 'rssMiB')} | ${data[t].reduce((a, x) => a + x.spurious, 0)} |`),
      '',
      `netcheck ÷ nmap -sT -T4 process wall time, median of per-run ratios: **${ratio}×** (target ≤ 0.25×, 0 spurious).`,
      '',
    );
  } finally {
    await lab.destroy();
  }
}

try {
  md.push(`## Scaling — ${results.date}`, '', `Machine: ${results.machine.cpu}, Node ${results.machine.node}; load average at start ${results.machine.loadavg.join(' ')}.`, '');
  const rows = [];
  for (const p of PREFIXES) rows.push(await sizeItem(p));
  md.push(
    `### Loopback sweeps in a private namespace (1 in 8 listening, the rest closed), ${RUNS} interleaved runs, medians`,
    '',
    '| targets | tool | process wall ms | sweep ms | peak RSS MiB | CPU µs/probe | spurious |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...rows.flatMap((r) => Object.entries(r.med).map(([t, m]) => `| ${fmt(r.targets)} | ${t === 'nmap' ? 'nmap -sT' : t} | ${m.wallMs} | ${m.sweepMs} | ${m.rssMiB} | ${m.cpuUsPerProbe} | ${m.spurious} |`)),
    '',
    '| targets | netcheck wall ÷ sweep (target ≤ 1.25 at 65k) | sweep vs raw loop (raw ÷ netcheck, target ≥ 0.9) | wall vs raw | wall vs nmap -sT |',
    '|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${fmt(r.targets)} | ${r.wallOverSweep} | ${r.sweepVsRaw} | ${r.wallVsRaw} | ${r.wallVsNmap ?? 'n/a'} |`),
    '',
  );
  if (LIVEPERSON) await livepersonItem();
} finally {
  rmSync(TMP, { recursive: true, force: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${md.join('\n')}\n`);
}
