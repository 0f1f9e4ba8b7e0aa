/** `netcheck daemon` for tests: started on 127.0.0.1 port 0, its port read from what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT } from './cli.js';
import { until } from './prometheus.js';

/** The machine's proxy variables must not reach a daemon under test. */
export const NO_PROXY_ENV = { HTTP_PROXY: '', HTTPS_PROXY: '', ALL_PROXY: '', NO_PROXY: '', http_proxy: '', https_proxy: '', all_proxy: '', no_proxy: '' };

export interface TestDaemon {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

/** Start `netcheck daemon ARGS --listen 127.0.0.1:0` and wait until it listens. */
export async function startDaemon(args: string[]): Promise<TestDaemon> {
  const child = spawn(process.execPath, [BIN, 'daemon', ...args, '--listen', '127.0.0.1:0'], { cwd: ROOT, env: { ...process.env, ...NO_PROXY_ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const port = Number(
    await until('daemon listening', async () => /listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(err)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(err)) : undefined), 20_000),
  );
  return { child, port, stderr: () => err };
}

/** Metric lines of a Prometheus text answer, comments left out: `name{labels}` → value. */
export function samples(text: string): Map<string, number> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const i = l.lastIndexOf(' ');
        return [l.slice(0, i), Number(l.slice(i + 1))] as const;
      }),
  );
}
