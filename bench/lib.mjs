// What the bench items share (bench/run.mjs, bench/scale.mjs): paths, statistics, running a
// command in a lab namespace (wall time, or GNU time's wall / peak RSS / CPU), nmap's greppable
// output, fixtures' ready lines, and interleaved rounds.
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin/netcheck.js');
export const NODE = process.execPath;
export const LISTENERS = join(ROOT, 'bench/listeners.mjs');
export const RAW = join(ROOT, 'bench/raw-sweep.mjs');

export const log = (s) => process.stderr.write(`${s}\n`);
export const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
export const r1 = (x) => Math.round(x * 10) / 10;
export const r2 = (x) => Math.round(x * 100) / 100;
export const fmt = (n) => n.toLocaleString('en-US');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The machine a run was made on (BENCHMARKS.md quotes it). */
export function machine() {
  const v = (cmd, a) => {
    try {
      return execFileSync(cmd, a, { encoding: 'utf8' }).split('\n')[0].trim();
    } catch {
      return 'n/a';
    }
  };
  return {
    cpu: `${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}`,
    memGiB: r1(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    nmap: v('nmap', ['--version']),
    loadavg: os.loadavg().map(r2),
  };
}

/** Run argv in a lab namespace; wall time measured around the whole process. */
export async function timed(lab, ns, argv, timeoutMs = 600_000) {
  const t0 = performance.now();
  const r = await lab.exec(ns, argv, { timeoutMs });
  return { ...r, wallMs: performance.now() - t0 };
}

const GNU_TIME = ['/usr/bin/time', '-f', 'NCTIME %e %M %U %S'];

/** Is GNU time there (peak RSS and CPU of a child)? */
export const haveGnuTime = () => have('/usr/bin/time');

/**
 * Run argv under GNU time in a lab namespace: the process's own wall (ms), peak RSS (MiB) and CPU
 * (user + system, ms), and its output.
 */
export async function measured(lab, ns, argv, { timeoutMs = 900_000, env = [] } = {}) {
  const r = await lab.exec(ns, [...(env.length ? ['env', ...env] : []), ...GNU_TIME, ...argv], { timeoutMs });
  const m = /NCTIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  if (!m) throw new Error(`${argv.join(' ').slice(0, 200)}: no timing (exit ${r.code}): ${r.stderr.slice(-1000)}`);
  return { stdout: r.stdout, code: r.code, wallMs: Number(m[1]) * 1000, rssMiB: r1(Number(m[2]) / 1024), cpuMs: (Number(m[3]) + Number(m[4])) * 1000 };
}

/** nmap -oG: host → port → state. */
export function nmapStates(stdout) {
  const out = new Map();
  for (const line of stdout.split('\n')) {
    const host = /^Host: (\S+) /.exec(line)?.[1];
    const field = line.split('\t').find((f) => f.startsWith('Ports: '));
    if (!host || !field) continue;
    const ports = new Map();
    for (const p of field.slice('Ports: '.length).split(/,\s*/)) {
      if (!p.trim()) continue; // every port in the "Ignored State" summary
      const [port, state] = p.split('/');
      ports.set(Number(port), state);
    }
    out.set(host, ports);
  }
  return out;
}

/** nmap's own "scanned in N seconds", in ms. */
export const nmapScanned = (stdout) => Number(/scanned in ([\d.]+) seconds/.exec(stdout)?.[1] ?? NaN) * 1000;

/** Wait for a fixture's ready line (one JSON line on stdout). */
export function ready(child) {
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

/** Run each tool once per round, rotating the order each round; one warm-up round is discarded. */
export async function interleave(tools, runs, tag, warmup = true) {
  const names = Object.keys(tools);
  const data = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = warmup ? -1 : 0; round < runs; round++) {
    const order = names.map((_, i) => names[(i + Math.max(round, 0)) % names.length]);
    for (const n of order) {
      const x = await tools[n]();
      if (round >= 0) data[n].push(x);
      log(`bench (${tag}) ${round < 0 ? 'warm-up' : `run ${round + 1}/${runs}`} ${n}: ${JSON.stringify(x)}`);
    }
  }
  return data;
}
