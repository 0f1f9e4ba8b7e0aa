/**
 * A real Prometheus (Debian's package) for tests: started on 127.0.0.1 with a port picked free
 * and, should another test file take that port first, started again on another one (it exits
 * with "address already in use"); stopped with SIGTERM. Its query API answers instant queries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const havePrometheus = existsSync(PROMETHEUS) && existsSync(PROMTOOL);

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  base: string;
  dir: string;
  log: () => string;
  query: (q: string) => Promise<Sample[]>;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Poll `f` until it returns something truthy (every 250 ms), or fail after `timeoutMs`. */
export async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
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

export function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.on('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Start Prometheus with this configuration (and extra files, e.g. rules, beside it). */
export async function startPrometheus(config: string, files: Record<string, string> = {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-prom-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'prometheus.yml'), config);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let log = '';
    const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, `data-${attempt}`)}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d) => (log += d));
    const exited = new Promise<'exited'>((r) => child.once('exit', () => r('exited')));
    const ready = until('prometheus ready', async () => (await fetch(`${base}/-/ready`)).ok, 30_000).then(() => 'ready' as const);
    const how = await Promise.race([ready, exited]);
    if (how === 'ready') {
      return {
        base,
        dir,
        log: () => log,
        query: async (q) => {
          const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
          const body = (await res.json()) as { status: string; data: { result: Sample[] }; error?: string };
          if (body.status !== 'success') throw new Error(`query ${q}: ${body.error ?? body.status}`);
          return body.data.result;
        },
        stop: () => stopChild(child),
      };
    }
    // Another test file took the port between our check and Prometheus' bind: try another one.
    if (/address already in use/i.test(log) && attempt < 5) continue;
    throw new Error(`prometheus exited: ${log.slice(-2000)}`);
  }
}
