/**
 * A real Prometheus (Debian's package) scrapes `netcheck daemon` on loopback, and its query API
 * returns the expected series; `promtool check metrics` accepts the daemon's /metrics.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, ROOT } from '../helpers/cli.js';
import { prometheusTools, startPrometheus, until, type RunningPrometheus, type Sample } from '../helpers/prometheus.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';
import { byDeadline, stopChild, waitForOutput } from '../helpers/wait.js';

const tools = prometheusTools('daemon-prometheus tests (a real Prometheus scrapes the daemon)');

describe.skipIf(!tools)('a real Prometheus scrapes netcheck daemon', () => {
  let lab: LabServers;
  let daemon: ChildProcess | undefined;
  let prom: RunningPrometheus | undefined;
  let daemonBase = '';

  beforeAll(async () => {
    lab = await startLabServers();
    daemon = spawn(process.execPath, [BIN, 'daemon', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '500ms', '--every', '2s', '--listen', '127.0.0.1:0'], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const port = (await waitForOutput(daemon, /listening on http:\/\/127\.0\.0\.1:(\d+)/, 'netcheck daemon', 20_000))[1];
    daemonBase = `http://127.0.0.1:${port}`;

    prom = await startPrometheus(tools!.prometheus, `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: netcheck\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([prom?.stop(), stopChild(daemon)]);
    await lab?.close();
  });

  const query = (q: string): Promise<Sample[]> => prom!.query(q);

  it('the query API returns the daemon series with the right values', async () => {
    const up = await until('up == 1', async () => (await query('up{job="netcheck"}')).find((s) => s.value[1] === '1'), 40_000).catch((e: Error) => {
      throw new Error(`${e.message}; prometheus said: ${prom?.log().slice(-2000)}`);
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
    expect(runDuration * 1000).toBeLessThan(byDeadline(500, 20)); // a few probes of 500 ms, not a hang
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
    const r = spawnSync(tools!.promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});
