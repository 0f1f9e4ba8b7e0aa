/**
 * Waiting for readiness, never sleeping for it: poll a condition until it holds, or read a
 * child's output until it says it is ready. One place for what three loops did before.
 */
import type { ChildProcess } from 'node:child_process';

/** Poll `f` every `intervalMs` until it returns a truthy value; throws with the last error after `timeoutMs`. */
export async function waitFor<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const end = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Resolve with the first match of `re` in the child's stdout+stderr; reject when the child exits
 * first (with what it printed) or after `timeoutMs`.
 */
export function waitForOutput(child: ChildProcess, re: RegExp, what: string, timeoutMs = 15_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const done = (f: () => void): void => {
      clearTimeout(t);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      f();
    };
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = re.exec(out);
      if (m) done(() => resolve(m));
    };
    const onExit = (code: number | null, signal: string | null): void => done(() => reject(Object.assign(new Error(`${what} exited (${code ?? signal}) before it was ready: ${out.slice(-2000)}`), { output: out })));
    const t = setTimeout(() => done(() => reject(new Error(`${what} not ready after ${timeoutMs} ms: ${out.slice(-2000)}`))), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The port a fixture announces on stdout with a `{"ready":true,"port":N}` line. */
export async function readyPort(child: ChildProcess, timeoutMs = 15_000): Promise<number> {
  return Number((await waitForOutput(child, /"port":(\d+)/, 'fixture', timeoutMs))[1]);
}

/**
 * The most a step given `deadlineMs` may take in a test: a generous multiple of its deadline, so
 * the assertion proves that the deadline ended it (not the kernel's 2-minute SYN timeout, not a
 * hang) without measuring how fast this machine is right now.
 */
export function byDeadline(deadlineMs: number, factor = 5): number {
  return deadlineMs * factor;
}
