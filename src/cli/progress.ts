/**
 * Live progress on stderr: one updating line on a TTY, plain occasional lines otherwise.
 * Never on stdout, which carries only the requested format.
 */
import type { ProbeResult } from '../types.js';

export interface Progress {
  onResult: (r: ProbeResult, done: number, total: number) => void;
  end: () => void;
}

export function makeProgress(label: string, quiet: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (quiet) return { onResult: () => undefined, end: () => undefined };
  const tty = !!stream.isTTY;
  const counts: Record<string, number> = {};
  let last = 0;
  let lastDone = 0;
  let lastTotal = 0;
  const line = (done: number, total: number): string =>
    `netcheck ${label}: ${done}/${total} probes` + (Object.keys(counts).length ? ` (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')})` : '');
  return {
    onResult: (r, done, total) => {
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      lastDone = done;
      lastTotal = total;
      const now = Date.now();
      if (tty) {
        if (now - last > 80 || done === total) {
          stream.write(`\r\x1b[K${line(done, total)}`);
          last = now;
        }
      } else if (now - last > 2000 && done < total) {
        stream.write(`${line(done, total)}\n`);
        last = now;
      }
    },
    end: () => {
      if (tty) stream.write(`\r\x1b[K`);
      if (lastTotal) stream.write(`${line(lastDone, lastTotal)} — done\n`);
    },
  };
}
