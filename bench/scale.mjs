// The scaling item of `npm run bench` (issue 14): does the whole process cost grow linearly with
// the sweep? Run it with `npm run bench -- --only scale`. Every packet stays inside network
// namespaces the item creates (src/lab/netns.ts).
//
// (a) every address of a /22, /20, /18, /16 (1,022 to 65,534 targets) on the loopback of a namespace
//     of our own (127.64.0.0/…, 1 in 8 listening, the rest closed): netcheck `probe tcp CIDR:PORT`
//     vs the raw node:net loop (bench/raw-sweep.mjs) vs nmap -sT, interleaved rounds: process wall,
//     sweep time, peak RSS, CPU per probe (GNU time). With --scale-ablate, also netcheck with
//     NETCHECK_STACK_TRACES=1 (what the stack traces of expected errors cost).
// (b) the LivePerson --sweep shape: 9 /22 ranges × TCP 80/443 (18,396 probes) through the lab
//     firewall, which drops every odd address; netcheck run --sweep vs nmap -sT -T4.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, fmt, have, interleave, LISTENERS, measured, median, NODE, nmapScanned, nmapStates, r1, r2, RAW, ready } from './lib.mjs';

/**
 * Run the item; appends Markdown to `md` and the measurements to `results.items.scale`.
 * `lab` and `ip` are the built lab (dist/lab/netns.js) and address (dist/util/ip.js) modules.
 */
export async function scaleItem({ lab: labMod, ip, tmp, runs, prefixes, liveperson, ablate, results, md }) {
  const HAVE_NMAP = have('nmap');
  const out = { runs, roundsPerSize: {}, sizes: {}, liveperson: undefined };
  results.items.scale = out;
  const rows = [];
  for (const p of prefixes) rows.push(await sizeItem({ labMod, ip, tmp, runs, prefix: p, ablate, HAVE_NMAP, out }));
  const tools = Object.keys(rows[0]?.med ?? {});
  md.push(
    `### (scale) loopback sweeps in a private namespace (1 in 8 listening, the rest closed), interleaved runs (+1 warm-up): ${rows.map((r) => `${r.rounds} at ${fmt(r.targets)}`).join(', ')}; medians`,
    '',
    '| targets | tool | process wall ms | sweep ms | peak RSS MiB | CPU µs/probe | spurious (all runs) |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...rows.flatMap((r) => tools.map((t) => ({ t, m: r.med[t] })).map(({ t, m }) => `| ${fmt(r.targets)} | ${label(t)} | ${m.wallMs} | ${m.sweepMs} | ${m.rssMiB} | ${m.cpuUsPerProbe} | ${m.spurious} |`)),
    '',
    '| targets | runs | netcheck wall ÷ sweep (target ≤ 1.25 at 65k) | sweep vs raw loop (raw ÷ netcheck, target ≥ 0.9) | its middle half of runs | wall vs raw | wall vs nmap -sT | load average at start |',
    '|---:|---:|---:|---:|---|---:|---:|---|',
    ...rows.map((r) => `| ${fmt(r.targets)} | ${r.rounds} | ${r.wallOverSweep} | ${r.sweepVsRaw} | ${r.sweepVsRawIqr.join('–')} | ${r.wallVsRaw} | ${r.wallVsNmap ?? 'n/a'} | ${r.loadavg.join(' ')} |`),
    '',
  );
  if (ablate) {
    md.push(
      'Stack traces of expected errors (`NETCHECK_STACK_TRACES=1` keeps them), median of per-run ratios, on ÷ off: ' +
        rows.map((r) => `${fmt(r.targets)}: CPU ${r.stacksCpuRatio}×, sweep ${r.stacksSweepRatio}×`).join('; ') +
        '.',
      '',
    );
  }
  if (liveperson) await livepersonItem({ labMod, ip, tmp, runs, HAVE_NMAP, out, md });
}

const label = (t) => ({ nmap: 'nmap -sT', 'netcheck-stacks': 'netcheck, stack traces on' })[t] ?? t;

/**
 * Rounds for a size: at least `runs`, and more for short sweeps. This machine is a shared VM whose
 * speed changes from second to second (the raw loop alone took 480 to 830 ms at 4,094 targets in
 * one sitting), and a 4,094-target sweep lasts about half a second: one round's ratio is as much
 * that second's luck as the tools' difference. More rounds, each as short as before, give the
 * median of the per-round ratios the same footing a 65,534-target sweep gets from lasting 10×
 * longer. Capped at 25 rounds.
 */
export function roundsFor(runs, targets) {
  return Math.max(runs, Math.min(25, Math.round((runs * 16_384) / targets)));
}

async function sizeItem({ labMod, ip, tmp, runs: minRuns, prefix, ablate, HAVE_NMAP, out }) {
  const cidr = `127.64.0.0/${prefix}`;
  const hosts = ip.expandCidr(ip.parseCidr(cidr), 1 << 20);
  const n = hosts.length;
  const runs = roundsFor(minRuns, n);
  out.roundsPerSize[n] = runs;
  const PORT = 9000;
  const listening = new Set(hosts.filter((_, i) => i % 8 === 2));
  const expected = (h) => (listening.has(h) ? 'ok' : 'refused');
  const hostsFile = join(tmp, `hosts-${n}.txt`);
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  // Files, not arguments: 65,534 addresses exceed the size limit of one argument (E2BIG).
  const rawArgs = join(tmp, `raw-${n}.json`);
  writeFileSync(rawArgs, JSON.stringify({ hosts, port: PORT, concurrency: 256, timeoutMs: 3000 }));
  const listenArgs = join(tmp, `listen-${n}.json`);
  writeFileSync(listenArgs, JSON.stringify({ tcp: [{ addrs: [...listening], ports: [PORT] }] }));
  const loadavg = (await import('node:os')).loadavg().map(r2);
  const lab = await labMod.createLab();
  try {
    await ready(lab.spawn('client', [NODE, LISTENERS, `@${listenArgs}`]));
    const netcheck = (env) => async () => {
      const r = await measured(lab, 'client', [NODE, BIN, 'probe', 'tcp', `${cidr}:${PORT}`, '--no-control', '--json', '--quiet', '--max-targets', String(n)], { env });
      const report = JSON.parse(r.stdout);
      if (report.probes.length !== n) throw new Error(`netcheck probed ${report.probes.length} of ${n}`);
      const spurious = report.probes.filter((p) => p.status !== expected(p.host)).length;
      return { wallMs: r1(r.wallMs), sweepMs: r1(report.durationMs), rssMiB: r.rssMiB, cpuMs: r1(r.cpuMs), cpuUsPerProbe: r1((r.cpuMs * 1000) / n), spurious, jsonBytes: Buffer.byteLength(r.stdout) };
    };
    const tools = {
      raw: async () => {
        const r = await measured(lab, 'client', [NODE, RAW, `@${rawArgs}`]);
        const { ms, counts } = JSON.parse(r.stdout);
        const spurious = Math.abs((counts.open ?? 0) - listening.size) + Object.entries(counts).filter(([k]) => k !== 'open' && k !== 'ECONNREFUSED').reduce((a, [, v]) => a + v, 0);
        return { wallMs: r1(r.wallMs), sweepMs: r1(ms), rssMiB: r.rssMiB, cpuMs: r1(r.cpuMs), cpuUsPerProbe: r1((r.cpuMs * 1000) / n), spurious };
      },
      netcheck: netcheck([]),
      ...(ablate ? { 'netcheck-stacks': netcheck(['NETCHECK_STACK_TRACES=1']) } : {}),
      ...(HAVE_NMAP
        ? {
            nmap: async () => {
              const r = await measured(lab, 'client', ['nmap', '-sT', '-Pn', '-n', '-p', String(PORT), '-iL', hostsFile, '-oG', '-']);
              const st = nmapStates(r.stdout);
              const spurious = hosts.filter((h) => (st.get(h)?.get(PORT) === 'open' ? 'ok' : st.get(h)?.get(PORT) === 'closed' ? 'refused' : 'other') !== expected(h)).length;
              return { wallMs: r1(r.wallMs), sweepMs: r1(nmapScanned(r.stdout)), rssMiB: r.rssMiB, cpuMs: r1(r.cpuMs), cpuUsPerProbe: r1((r.cpuMs * 1000) / n), spurious };
            },
          }
        : {}),
    };
    const data = await interleave(tools, runs, `scale ${n}`);
    const med = (t, k) => r1(median(data[t].map((x) => x[k])));
    const ratio = (f) => r2(median(data.netcheck.map(f)));
    // The middle half of the per-round ratios (25th to 75th percentile): how much one round says.
    const iqr = (f) => {
      const v = data.netcheck.map(f).sort((a, b) => a - b);
      const q = (p) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))];
      return [r2(q(0.25)), r2(q(0.75))];
    };
    const row = {
      targets: n,
      rounds: runs,
      cidr,
      listening: listening.size,
      loadavg,
      data,
      wallOverSweep: ratio((x) => x.wallMs / x.sweepMs),
      sweepVsRaw: ratio((x, i) => data.raw[i].sweepMs / x.sweepMs),
      sweepVsRawIqr: iqr((x, i) => data.raw[i].sweepMs / x.sweepMs),
      wallVsRaw: ratio((x, i) => data.raw[i].wallMs / x.wallMs),
      ...(HAVE_NMAP ? { wallVsNmap: ratio((x, i) => data.nmap[i].wallMs / x.wallMs) } : {}),
      ...(ablate ? { stacksCpuRatio: ratio((x, i) => data['netcheck-stacks'][i].cpuMs / x.cpuMs), stacksSweepRatio: ratio((x, i) => data['netcheck-stacks'][i].sweepMs / x.sweepMs) } : {}),
      med: Object.fromEntries(Object.keys(tools).map((t) => [t, { wallMs: med(t, 'wallMs'), sweepMs: med(t, 'sweepMs'), rssMiB: med(t, 'rssMiB'), cpuUsPerProbe: med(t, 'cpuUsPerProbe'), spurious: data[t].reduce((a, x) => a + x.spurious, 0) }])),
    };
    out.sizes[prefix] = row;
    return row;
  } finally {
    await lab.destroy();
  }
}

/** 9 /22 ranges × TCP 80/443 through the lab firewall, odd addresses dropped, even ones open. */
async function livepersonItem({ labMod, ip, tmp, runs, HAVE_NMAP, out, md }) {
  const ranges = Array.from({ length: 9 }, (_, i) => `10.${210 + i}.0.0/22`);
  const hosts = ranges.flatMap((c) => ip.expandCidr(ip.parseCidr(c), 4096));
  const odd = (h) => Number(h.split('.')[3]) % 2 === 1;
  const expected = (h) => (odd(h) ? 'filtered' : 'ok');
  const catalog = join(tmp, 'liveperson-shape.yaml');
  writeFileSync(
    catalog,
    `schema: netcheck/catalog/v1\nid: liveperson-shape\ntitle: LivePerson-shaped sweep (bench)\nsource: bench/scale.mjs\nsections:\n  - id: ranges\n    name: Ranges\n    lines:\n` +
      ranges.map((c, i) => `      - id: r${i}\n        description: range ${c}\n        targets: [${c}]\n        ports: [80, 443]\n        checks: [{ kind: tcp }]\n`).join(''),
  );
  const hostsFile = join(tmp, 'lp-hosts.txt');
  writeFileSync(hostsFile, `${hosts.join('\n')}\n`);
  const loadavg = (await import('node:os')).loadavg().map(r2);
  const lab = await labMod.createLab({ ruleset: labMod.statefulRuleset('ip daddr 10.208.0.0/12 ip daddr & 0.0.0.1 == 0.0.0.1 drop') });
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
    const data = await interleave(tools, runs, 'scale liveperson');
    const ratio = HAVE_NMAP ? r2(median(data.netcheck.map((x, i) => x.wallMs / data.nmap[i].wallMs))) : NaN;
    out.liveperson = { probes: hosts.length * 2, dropped: hosts.filter(odd).length * 2, loadavg, data, ratio };
    const med = (t, k) => r1(median(data[t].map((x) => x[k])));
    md.push(
      `### (scale) LivePerson --sweep shape: ${fmt(hosts.length * 2)} probes (9 /22 × TCP 80/443) through the lab firewall, odd addresses dropped, ${runs} interleaved runs (+1 warm-up); load average at start ${loadavg.join(' ')}`,
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
