/**
 * `netcheck daemon` (issue 6): endpoints, never-overlapping runs, bounded report folder, and
 * resilience — a run that throws, a full or unwritable report folder, a webhook that hangs —
 * while /metrics keeps answering. Real runs against loopback servers the test starts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/builtin.js';
import { expandCatalog } from '../../src/catalog/expand.js';
import { Daemon, verdictChanges, type DaemonOptions } from '../../src/daemon/daemon.js';
import { runCheck } from '../../src/engine/check.js';
import { startReflector } from '../../src/reflector/server.js';
import { reportJsonSchema } from '../../src/report/schema.js';
import { Ajv } from 'ajv';
import type { Report } from '../../src/types.js';
import { BIN, cliEnv, ROOT, runCli } from '../helpers/cli.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';
import { needTools } from '../helpers/tools.js';
import { byDeadline, waitFor } from '../helpers/wait.js';

let lab: LabServers;
const daemons: Daemon[] = [];
const servers: Server[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  lab = await startLabServers();
});
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.shutdown(true)));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  await lab?.close();
});

function plan(l: LabServers = lab) {
  const params = { 'web-port': String(l.ports.web), 'closed-port': String(l.ports.closed), 'udp-port': String(l.ports.udp), 'silent-port': String(l.ports.silent) };
  return expandCatalog(loadCatalog(l.catalog), { params, timeoutMs: 400 });
}

const logs: string[] = [];
async function startDaemon(o: Partial<DaemonOptions> = {}): Promise<{ d: Daemon; base: string }> {
  const d = new Daemon({
    targets: [{ id: 'lab-report', plan: plan() }],
    everyMs: 1000,
    jitterMs: 0,
    host: '127.0.0.1',
    port: 0,
    keep: 3,
    check: { control: false, udpRecheckIntervalMs: 0 },
    log: (l) => logs.push(l),
    ...o,
  });
  daemons.push(d);
  const { port } = await d.start();
  return { d, base: `http://127.0.0.1:${port}` };
}

const until = <T>(what: string, f: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> =>
  waitFor(what, async () => (await f()) || undefined, timeoutMs, 100) as Promise<NonNullable<T>>;

async function metric(base: string, re: RegExp): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Time a /metrics scrape takes right now. */
async function scrapeMs(base: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${base}/metrics`);
  await res.text();
  expect(res.status).toBe(200);
  return performance.now() - t0;
}

describe('daemon endpoints and scheduling', () => {
  it('serves /metrics, /healthz and /report, never overlaps runs, keeps the last N reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-daemon-'));
    let inFlight = 0;
    let peak = 0;
    let calls = 0;
    const { d, base } = await startDaemon({
      reportsDir: dir,
      keep: 2,
      // A run (≈0.4 s of UDP silence) plus this delay is longer than --every: slots must be skipped, not stacked.
      runCheck: async (p, o) => {
        calls++;
        peak = Math.max(peak, ++inFlight);
        try {
          const r = await runCheck(p, o);
          await new Promise((res) => setTimeout(res, 900));
          return r;
        } finally {
          inFlight--;
        }
      },
    });
    expect((await fetch(`${base}/report`)).status).toBe(503); // nothing yet, and says so
    await until('4 runs', () => d.runsCompleted >= 4, 30_000);
    expect(peak).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(await metric(base, /^netcheck_skipped_runs_total (\d+)/m)).toBeGreaterThan(0);

    const report = (await (await fetch(`${base}/report`)).json()) as Report;
    expect(report.lines.find((l) => l.id === 'portal')!.verdict).toBe('pass');
    expect(report.lines.find((l) => l.id === 'signaling')!.verdict).toBe('fail');
    expect((await fetch(`${base}/report?catalog=nope`)).status).toBe(404);
    const health = (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>;
    expect(health.status).toBe('ok');
    expect((health.catalogs as Record<string, { lastReport: unknown }>)['lab-report']!.lastReport).toBeTruthy();

    expect(await metric(base, /^netcheck_probe_success\{catalog="lab-report",line="portal",kind="http",target="127\.0\.0\.1:\d+"\} (\d+)/m)).toBe(1);
    expect(await metric(base, /^netcheck_probe_success\{catalog="lab-report",line="signaling",kind="tcp",target="127\.0\.0\.1:\d+"\} (\d+)/m)).toBe(0);
    expect(await metric(base, /^netcheck_line_verdict\{catalog="lab-report",section="data",line="data-silent",required="true",verdict="inconclusive"\} (\d+)/m)).toBe(1);
    expect(await metric(base, /^netcheck_runs_total\{catalog="lab-report",result="success"\} (\d+)/m)).toBeGreaterThanOrEqual(4);
    const last = await metric(base, /^netcheck_last_run_timestamp_seconds\{catalog="lab-report"\} ([\d.e+]+)/m);
    expect(Math.abs(last! - Date.now() / 1000)).toBeLessThan(10);

    // Bounded folder: exactly `keep` reports, each a complete JSON report, no temp files left.
    const files = readdirSync(dir);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(2);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const f of files) expect((JSON.parse(readFileSync(join(dir, f), 'utf8')) as Report).catalog.id).toBe('lab-report');
  }, 60_000);

  it('jitter delays runs; --redact and the textfile apply to what the daemon serves and writes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-daemon-'));
    const textfile = join(dir, 'netcheck.prom');
    const t0 = Date.now();
    let firstAt = 0;
    const { d, base } = await startDaemon({
      everyMs: 3000,
      jitterMs: 2000,
      random: () => 0.6, // every run 1.2 s after its slot
      redact: true,
      textfile,
      reportsDir: dir,
      runCheck: async (p, o) => {
        firstAt ||= Date.now();
        return runCheck(p, o);
      },
    });
    await until('first run', () => d.runsCompleted >= 1, 20_000);
    expect(firstAt - t0).toBeGreaterThanOrEqual(1150);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/target="internal-ipv4-1:\d+"/);
    expect(metrics).not.toContain('127.0.0.1');
    const report = await (await fetch(`${base}/report`)).text();
    expect(report).not.toContain('127.0.0.1');
    const saved = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(saved).toHaveLength(1);
    expect(readFileSync(join(dir, saved[0]!), 'utf8')).not.toContain('127.0.0.1');
    const prom = await until('textfile', () => existsSync(textfile) && readFileSync(textfile, 'utf8'));
    expect(prom).toMatch(/^netcheck_line_verdict\{catalog="lab-report",section="signaling",line="signaling",required="true",verdict="fail"\} 1$/m);
    expect(prom).not.toContain('127.0.0.1');
    // The served report is a valid report.
    const ajv = new Ajv({ allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const validate = ajv.compile(reportJsonSchema());
    expect(validate(JSON.parse(report)), JSON.stringify(validate.errors)).toBe(true);
  }, 60_000);

  it('finds verdict changes between two reports', () => {
    const a = { lines: [{ id: 'x', description: 'x', verdict: 'pass' }, { id: 'y', description: 'y', verdict: 'fail' }] } as unknown as Report;
    const b = { lines: [{ id: 'x', description: 'x', verdict: 'fail', reason: 'r' }, { id: 'z', description: 'z', verdict: 'pass', reason: 'r' }] } as unknown as Report;
    expect(verdictChanges(a, b).map((c) => [c.line, c.from, c.to])).toEqual([['x', 'pass', 'fail'], ['z', 'absent', 'pass'], ['y', 'fail', 'absent']]);
  });
});

describe('daemon resilience', () => {
  it('survives a run that throws and keeps serving metrics', async () => {
    let n = 0;
    const { d, base } = await startDaemon({
      runCheck: async (p, o) => {
        if (++n === 2) throw new Error('disk on fire (injected)');
        return runCheck(p, o);
      },
    });
    await until('3 good runs after the failure', () => n >= 4 && d.runsCompleted >= 3, 30_000);
    expect(await metric(base, /^netcheck_runs_total\{catalog="lab-report",result="error"\} (\d+)/m)).toBe(1);
    expect(await metric(base, /^netcheck_last_run_success\{catalog="lab-report"\} (\d+)/m)).toBe(1);
    expect(logs.some((l) => l.includes('run failed: disk on fire'))).toBe(true);
    expect(((await (await fetch(`${base}/healthz`)).json()) as { status: string }).status).toBe('ok'); // the last run was good again
    // The failed run did not wipe the last good series.
    expect(await metric(base, /^netcheck_probe_success\{catalog="lab-report",line="portal",kind="tcp",target="[^"]+"\} (\d+)/m)).toBe(1);
  }, 60_000);

  it('survives an unwritable report folder (a file where the folder should be)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'netcheck-daemon-')), 'not-a-dir');
    writeFileSync(file, 'x');
    const { d, base } = await startDaemon({ reportsDir: join(file, 'reports') });
    await until('2 runs', () => d.runsCompleted >= 2, 30_000);
    expect(await metric(base, /^netcheck_report_write_errors_total (\d+)/m)).toBeGreaterThanOrEqual(2);
    expect((await fetch(`${base}/report`)).status).toBe(200);
    expect(logs.some((l) => /report not saved .*ENOTDIR/.test(l))).toBe(true);
  }, 60_000);

  const isRoot = process.getuid?.() === 0;
  if (!isRoot) console.warn('SKIPPED full-disk daemon test: needs root to mount a tiny tmpfs (CI runs as root)');
  const mountTools = isRoot ? needTools('full-disk daemon test', ['mount', 'umount', 'dd']) : undefined;
  const canMount = mountTools !== undefined;
  it.skipIf(!canMount)('survives a full disk for its report folder (a real 64 KiB tmpfs, filled up)', async (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'netcheck-fulldisk-'));
    const m = spawnSync(mountTools!.mount, ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      console.warn(`SKIPPED full-disk daemon test: mount tmpfs failed: ${m.stderr}`);
      ctx.skip();
    }
    try {
      const dir = join(mnt, 'reports');
      mkdirSync(dir);
      // Fill the filesystem to the last block.
      spawnSync(mountTools!.dd, ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k'], { encoding: 'utf8' });
      const { d, base } = await startDaemon({ reportsDir: dir });
      await until('2 runs', () => d.runsCompleted >= 2, 30_000);
      expect(await metric(base, /^netcheck_report_write_errors_total (\d+)/m)).toBeGreaterThanOrEqual(2);
      expect(logs.some((l) => /report not saved .*ENOSPC/.test(l))).toBe(true);
      expect(readdirSync(dir)).toEqual([]); // no half-written report, no temp file left behind
      expect((await fetch(`${base}/report`)).status).toBe(200);
      expect(await scrapeMs(base)).toBeLessThan(2000);
      await d.shutdown();
    } finally {
      spawnSync(mountTools!.umount, ['-l', mnt]);
    }
  }, 60_000);

  it.skipIf(!canMount)('its Prometheus textfile on a disk that fills mid-write: never half a file (issue 11)', async (ctx) => {
    const mnt = mkdtempSync(join(tmpdir(), 'netcheck-fulltextfile-'));
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) {
      console.warn(`SKIPPED textfile full-disk test: mount tmpfs failed: ${m.stderr}`);
      ctx.skip();
    }
    try {
      const textfile = join(mnt, 'netcheck.prom');
      writeFileSync(textfile, '# the previous metrics\n');
      // Fill to the last block, then free one page: the metrics' first write comes up short.
      spawnSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k'], { encoding: 'utf8' });
      spawnSync('truncate', ['-s', '-4K', join(mnt, 'filler')]);
      const { d, base } = await startDaemon({ textfile });
      await until('2 runs', () => d.runsCompleted >= 2, 30_000);
      await until('a textfile write error', async () => ((await metric(base, /^netcheck_report_write_errors_total (\d+)/m)) ?? 0) >= 1);
      expect((await (await fetch(`${base}/metrics`)).text()).length).toBeGreaterThan(4096);
      // node_exporter reads the old file whole, never a truncated new one; no temporary file is left.
      expect(readFileSync(textfile, 'utf8')).toBe('# the previous metrics\n');
      expect(readdirSync(mnt).sort()).toEqual(['filler', 'netcheck.prom']);
      expect(logs.some((l) => /metrics textfile not saved .*ENOSPC/.test(l))).toBe(true);
      await d.shutdown();
    } finally {
      spawnSync('umount', ['-l', mnt]);
    }
  }, 60_000);

  it('a webhook that hangs never blocks runs or metrics; it times out, retries with back-off, and gives up', async () => {
    const hits: number[] = [];
    const hang = createServer((req: IncomingMessage) => {
      hits.push(Date.now());
      req.resume(); // read the body, never answer
    });
    servers.push(hang);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hang.address() as { port: number }).port}/hook`;
    const mine = await startLabServers();
    try {
      const { d, base } = await startDaemon({ targets: [{ id: 'lab-report', plan: plan(mine) }], webhook: { url, timeoutMs: 1000, retries: 2, backoffMs: 300 } });
      await until('baseline run', () => d.runsCompleted >= 1);
      await mine.stopWeb(); // the portal line now fails: a verdict change
      await until('first webhook attempt', () => hits.length >= 1, 20_000);
      const runsAtFirstHit = d.runsCompleted;
      // While the webhook hangs, runs go on and scrapes stay fast.
      await until('two more runs during the hang', () => d.runsCompleted >= runsAtFirstHit + 2, 20_000);
      expect(await scrapeMs(base)).toBeLessThan(2000);
      await until('webhook given up', async () => ((await metric(base, /^netcheck_webhook_deliveries_total\{result="failure"\} (\d+)/m)) ?? 0) >= 1, 20_000);
      // 1 + 2 retries for this change (a later change, e.g. UDP loss under load, may queue more).
      expect(hits.length).toBeGreaterThanOrEqual(3);
      // Back-off between attempts: timeout (1 s) + 300 ms, then timeout + 600 ms. Measured at this
      // server, whose own delay in seeing a request (a loaded machine) takes up to half the back-off.
      expect(hits[1]! - hits[0]!).toBeGreaterThanOrEqual(1000 + 300 / 2);
      expect(hits[2]! - hits[1]!).toBeGreaterThanOrEqual(1000 + 600 / 2);
      expect(logs.some((l) => /webhook: failure \(no answer within 1000ms\)/.test(l))).toBe(true);
    } finally {
      await mine.close();
    }
  }, 60_000);

  it('delivers a verdict change after transient webhook errors', async () => {
    const bodies: Record<string, unknown>[] = [];
    let n = 0;
    const hook = createServer((req: IncomingMessage, res: ServerResponse) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        n++;
        if (n <= 2) {
          res.writeHead(503).end();
          return;
        }
        bodies.push(JSON.parse(b) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    servers.push(hook);
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const mine = await startLabServers();
    try {
      const { d, base } = await startDaemon({
        targets: [{ id: 'lab-report', plan: plan(mine) }],
        webhook: { url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/`, timeoutMs: 2000, retries: 3, backoffMs: 100 },
      });
      await until('baseline run', () => d.runsCompleted >= 1);
      expect(n).toBe(0); // the first run is the baseline: nothing to report
      await mine.stopWeb();
      await until('delivered', () => bodies.length >= 1, 20_000);
      expect(n).toBeGreaterThanOrEqual(3); // two 503s, then delivered
      const body = bodies[0]!;
      expect(body.event).toBe('verdict-change');
      expect(body.changes).toEqual(expect.arrayContaining([expect.objectContaining({ line: 'portal', from: 'pass', to: 'fail' })]));
      expect(await metric(base, /^netcheck_webhook_deliveries_total\{result="success"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    } finally {
      await mine.close();
    }
  }, 60_000);
});

describe('netcheck daemon (CLI)', () => {
  it('runs, serves, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-daemon-cli-'));
    const child = spawn(process.execPath, [BIN, 'daemon', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '500ms', '--every', '2s', '--listen', '127.0.0.1:0', '--reports-dir', dir, '--keep', '2'], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => (stdout += d));
    const port = await until('listening line', () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
    const base = `http://127.0.0.1:${port}`;
    await until('/report', async () => (await fetch(`${base}/report`)).status === 200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(await metric(base, /^netcheck_line_verdict\{catalog="lab-report",section="signaling",line="signaling",required="true",verdict="fail"\} (\d+)/m)).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(1);

    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // A run in flight ends within its probes' 500 ms deadline; stopping must not wait for more.
    expect(Date.now() - t0).toBeLessThan(byDeadline(500, 10));
    expect(stderr).toContain('stopped');
    expect(stdout).toBe('');
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 60_000);

  it('measures the idle timers against a reflector on every run (--timers) and exposes them', async () => {
    const refl = await startReflector({ listen: '127.0.0.1', tcpPorts: [0], udpPorts: [], wsPorts: [] });
    const child = spawn(
      process.execPath,
      [BIN, 'daemon', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '500ms', '--every', '30s', '--listen', '127.0.0.1:0',
        '--timers', '--reflector', '127.0.0.1', '--reflector-tcp-port', String(refl.tcp[0]), '--timer-scale', '0.002'],
      { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      const port = await until('listening line', () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      const base = `http://127.0.0.1:${port}`;
      // 12 minutes × 0.002 = 1.44 s required; the flows' gaps are scaled the same way.
      const verdict = await until('timer verdict', () => metric(base, /^netcheck_idle_timer_verdict\{catalog="lab-report",timer="tcp-registration",protocol="tcp",verdict="pass"\} (\d+)/m), 30_000);
      expect(verdict).toBe(1);
      expect(await metric(base, /^netcheck_idle_timer_required_seconds\{catalog="lab-report",timer="tcp-registration",protocol="tcp"\} ([\d.]+)/m)).toBeCloseTo(1.44, 2);
      expect(await metric(base, /^netcheck_idle_timer_longest_survived_seconds\{[^}]*\} ([\d.]+)/m)).toBeGreaterThanOrEqual(1.44);
      const report = (await (await fetch(`${base}/report`)).json()) as Report;
      expect(report.timers?.find((t) => t.id === 'tcp-registration')?.checked).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await refl.close();
    }
  }, 60_000);

  it('runs several catalogs one after another, each with its own series and report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-daemon-two-'));
    const second = join(dir, 'second.yaml');
    writeFileSync(second, readFileSync(lab.catalog, 'utf8').replace('id: lab-report', 'id: second'));
    const child = spawn(
      process.execPath,
      // Unscoped parameters go to both catalogs; the scoped one only to `second` (its portal then fails).
      // 2 s deadlines: the passing portal must not time out on a loaded machine.
      [BIN, 'daemon', '--catalog', lab.catalog, '--catalog', second, ...lab.args, '--param', `second:web-port=${lab.ports.closed}`, '--no-control', '--timeout', '2s', '--every', '30s', '--listen', '127.0.0.1:0'],
      { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    try {
      const port = await until('listening line', () => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1]);
      const base = `http://127.0.0.1:${port}`;
      await until('both reports', async () => (await fetch(`${base}/report?catalog=second`)).status === 200 && (await fetch(`${base}/report?catalog=lab-report`)).status === 200, 30_000);
      const a = (await (await fetch(`${base}/report?catalog=lab-report`)).json()) as Report;
      const b = (await (await fetch(`${base}/report?catalog=second`)).json()) as Report;
      expect(a.lines.find((l) => l.id === 'portal')!.verdict).toBe('pass');
      expect(b.lines.find((l) => l.id === 'portal')!.verdict).toBe('fail');
      expect(b.parameters['web-port']).toBe(String(lab.ports.closed));
      expect(await metric(base, /^netcheck_line_verdict\{catalog="lab-report",section="web",line="portal",required="true",verdict="pass"\} (\d+)/m)).toBe(1);
      expect(await metric(base, /^netcheck_line_verdict\{catalog="second",section="web",line="portal",required="true",verdict="fail"\} (\d+)/m)).toBe(1);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);

  it('listens on loopback unless told otherwise', async () => {
    const r = await runCli(['daemon', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--listen\s[^-]*\[default: "127\.0\.0\.1:9469"\]/);
  });

  it('refuses bad options with exit 2 and a message naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--every', '15'], /--every: '15' is not a duration/],
      [['--every', '500ms'], /--every must be at least 1s/],
      [['--every', '10s', '--jitter', '10s'], /--jitter must be shorter than --every/],
      [['--listen', 'localhost'], /--listen 'localhost'/],
      [['--output', 'x.html'], /--output does not apply to the daemon/],
      [['--keep', '0'], /--keep must be a whole number/],
      [['--webhook', 'ftp://x'], /--webhook must be an http or https URL/],
      [['--param', 'nope=1'], /--nope: none of the catalogs/],
      [['--param', 'other:web-port=1'], /no catalog 'other'/],
    ];
    for (const [extra, re] of cases) {
      const r = await runCli(['daemon', '--catalog', lab.catalog, ...lab.args, '--no-control', ...extra]);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, extra.join(' ')).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 60_000);
});
