import type { ChildProcess } from 'node:child_process';

/** Wait for a spawned serve-trust.mjs fixture to print its `"port":N` ready line. */
export function readyPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`fixture not ready: ${out}`)), 15_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  });
}
