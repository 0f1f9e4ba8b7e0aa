/** `netcheck daemon` for tests: started on 127.0.0.1 port 0, its port read from what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cliEnv, ROOT } from './cli.js';
import { waitForOutput } from './wait.js';

export interface TestDaemon {
  child: ChildProcess;
  port: number;
  stderr: () => string;
}

/** Start `netcheck daemon ARGS --listen 127.0.0.1:0` (no proxy variables) and wait until it listens. */
export async function startDaemon(args: string[]): Promise<TestDaemon> {
  const child = spawn(process.execPath, [BIN, 'daemon', ...args, '--listen', '127.0.0.1:0'], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const port = Number((await waitForOutput(child, /listening on https?:\/\/127\.0\.0\.1:(\d+)/, 'netcheck daemon', 20_000))[1]);
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
