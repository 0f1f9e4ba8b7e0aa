/**
 * A real Prometheus (Debian's package) for tests: it binds 127.0.0.1 port 0 and the port it got is
 * read from its log, so no parallel test file can take it first; stopped with SIGTERM. Its query
 * API answers instant queries. Find the binaries with {@link prometheusTools}.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needTools } from './tools.js';
import { stopChild, waitFor, waitForOutput } from './wait.js';

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface RunningPrometheus {
  base: string;
  port: number;
  dir: string;
  log: () => string;
  query: (q: string) => Promise<Sample[]>;
  stop: () => Promise<void>;
}

/** prometheus and promtool on PATH, or undefined after a notice saying what `what` skips. */
export function prometheusTools(what: string): { prometheus: string; promtool: string } | undefined {
  return needTools(what, ['prometheus', 'promtool']);
}

/** Poll `f` every 250 ms until it returns something truthy, or fail after `timeoutMs`. */
export function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  return waitFor(what, async () => (await f()) || undefined, timeoutMs, 250);
}

/** Start Prometheus with this configuration (and extra files, e.g. rules, beside it). */
export async function startPrometheus(bin: string, config: string, files: Record<string, string> = {}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-prom-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const child = spawn(bin, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  try {
    // Prometheus logs the port it got and that it is ready (both at level info), in either order:
    // a fresh-clone run saw "Server is ready" 10 ms before "Listening on", and waited 30 s for the
    // other order. (An earlier line says `address=127.0.0.1:0`: that is the flag, not the port.)
    const m = await waitForOutput(child, /^(?=[\s\S]*Server is ready to receive web requests)[\s\S]*msg="Listening on" address=127\.0\.0\.1:([1-9]\d*)/, 'prometheus', 30_000);
    const port = Number(m[1]);
    const base = `http://127.0.0.1:${port}`;
    return {
      base,
      port,
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
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}
