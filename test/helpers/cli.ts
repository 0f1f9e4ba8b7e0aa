/**
 * The one way tests run the built CLI (`npm test` builds it first): as a user would, in a clean
 * proxy environment (this machine's proxy variables must never leak into a test), never throwing
 * for a non-zero exit.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/netcheck.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON. */
  json?: any;
  ms: number;
}

/** The environment a CLI run gets: this process's, without proxy variables, plus `env`. */
export function cliEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const k of PROXY_VARS) delete base[k];
  return { ...base, ...env };
}

/** Run the built CLI. */
export function runCli(
  args: string[],
  opts: { signalAfterMs?: number; signalOnStderr?: RegExp; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    let signalled = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      // Signal on evidence that the run is under way (its handlers installed), not after a guess
      // at start-up time, which a loaded machine can exceed.
      if (opts.signalOnStderr && !signalled && opts.signalOnStderr.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    if (opts.signalAfterMs !== undefined) setTimeout(() => child.kill('SIGINT'), opts.signalAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json, ms: performance.now() - t0 });
    });
  });
}
