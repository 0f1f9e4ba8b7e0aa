/**
 * A real Prometheus (Debian's package) scrapes `netcheck daemon` on loopback, and its query API
 * returns the expected series; `promtool check metrics` accepts the daemon's /metrics.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../helpers/cli.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const have = existsSync(PROMETHEUS) && existsSync(PROMTOOL);
if (!have) console.warn(`SKIPPED daemon-prometheus tests: ${PROMETHEUS} or ${PROMTOOL} is missing (apt-get install prometheus; CI installs it from .ci/apt-packages.txt)`);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe.skipIf(!have)('a real Prometheus scrapes netcheck daemon', () => {
  let lab: LabServers;
  let daemon: ChildProcess | undefined;
  let prom: ChildProcess | undefined;
  let daemonBase = '';
  let promBase = '';
  let promLog = '';

  beforeAll(async () => {
    lab = await startLabServers();
    daemon = spawn(process.execPath, [BIN, 'daemon', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '500ms', '--every', '2s', '--listen', '127.0.0.1:0'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    daemon.stderr!.on('data', (d) => (err += d));
    const port = await until('daemon listening', async () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1], 20_000);
    daemonBase = `http://127.0.0.1:${port}`;

    const dir = mkdtempSync(join(tmpdir(), 'netcheck-prom-'));
    const cfg = join(dir, 'prometheus.yml');
    writeFileSync(cfg, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: netcheck\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`);
    const promPort = await freePort();
    promBase = `http://127.0.0.1:${promPort}`;
    prom = spawn(PROMETHEUS, [`--config.file=${cfg}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (d) => (promLog += d));
    await until('prometheus ready', async () => (await fetch(`${promBase}/-/ready`)).ok, 30_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([stop(prom), stop(daemon)]);
    await lab?.close();
  });

  async function query(q: string): Promise<Sample[]> {
    const res = await fetch(`${promBase}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { status: string; data: { result: Sample[] } };
    expect(body.status).toBe('success');
    return body.data.result;
  }

  it('the query API returns the daemon series with the right values', async () => {
    const up = await until('up == 1', async () => (await query('up{job="netcheck"}')).find((s) => s.value[1] === '1'), 40_000).catch((e: Error) => {
      throw new Error(`${e.message}; prometheus said: ${promLog.slice(-2000)}`);
    });
    expect(up.metric.instance).toBe(daemonBase.replace('http://', ''));

    const success = await until('probe series', async () => {
      const r = await query('netcheck_probe_success{job="netcheck"}');
      return r.length >= 6 ? r : undefined;
    }, 40_000);
    const value = (line: string, kind: string): string | undefined => success.find((s) => s.metric.line === line && s.metric.kind === kind)?.value[1];
    expect(value('portal', 'tcp')).toBe('1');
    expect(value('portal', 'http')).toBe('1');
    expect(value('signaling', 'tcp')).toBe('0');
    expect(value('data-echo', 'udp')).toBe('1');
    expect(value('data-silent', 'udp')).toBe('0');
    for (const s of success) {
      expect(s.metric.catalog).toBe('lab-report');
      expect(s.metric.target).toMatch(/^127\.0\.0\.1:\d+$/);
      // Bounded labels only: no reason or error text.
      expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'catalog', 'instance', 'job', 'kind', 'line', 'target']);
    }

    const failing = await query('netcheck_line_verdict{verdict="fail"} == 1');
    expect(failing.map((s) => s.metric.line).sort()).toEqual(['signaling', 'signaling-backup']);
    expect((await query('netcheck_line_verdict{line="data-silent",verdict="inconclusive"}'))[0]!.value[1]).toBe('1');
    expect(Number((await query('netcheck_required_lines_failing{catalog="lab-report"}'))[0]!.value[1])).toBe(1);

    const durations = await query('netcheck_probe_duration_seconds{line="data-silent"}');
    expect(Number(durations[0]!.value[1])).toBeGreaterThan(0.4); // it waited out its 500 ms deadline
    const runDuration = Number((await query('netcheck_run_duration_seconds{catalog="lab-report"}'))[0]!.value[1]);
    expect(runDuration).toBeGreaterThan(0.4);
    expect(runDuration).toBeLessThan(10);
    const lastRun = Number((await query('netcheck_last_run_timestamp_seconds{catalog="lab-report"}'))[0]!.value[1]);
    expect(Math.abs(lastRun - Date.now() / 1000)).toBeLessThan(30);

    // Runs keep coming: the counter rises between scrapes.
    const runs = async (): Promise<number> => Number((await query('netcheck_runs_total{catalog="lab-report",result="success"}'))[0]?.value[1] ?? 0);
    const before = await runs();
    await until('another run scraped', async () => (await runs()) > before, 20_000);
  }, 120_000);

  it('promtool check metrics accepts /metrics', async () => {
    const text = await (await fetch(`${daemonBase}/metrics`)).text();
    expect(text).toContain('netcheck_probe_success{');
    const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
