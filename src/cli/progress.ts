/**
 * Live progress on stderr: one updating line on a terminal, plain occasional lines otherwise (and
 * on a terminal that cannot move the cursor: TERM=dumb). Never on stdout, which carries only the
 * requested format.
 *
 * What a person wants to know (issue 16): at once, what is about to happen ("checking 486 probes
 * over 9 lines, up to 3s each"); then how far along it is, how long it has taken and about how
 * long is left. Silent probes wait out their whole deadline, so the line is redrawn on a clock, not
 * only when a probe settles.
 */
import type { Plan } from '../catalog/expand.js';
import type { ProbeResult } from '../types.js';
import { formatDuration } from '../util/duration.js';

export interface Progress {
  /** Say at once what the run will do (before any probe is sent). */
  start: (info: { probes: number; lines?: number; timeoutMs?: number }) => void;
  onResult: (r: ProbeResult, done: number, total: number) => void;
  end: () => void;
}

export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  /** Clock (ms), for tests. */
  now?: () => number;
  /** Environment deciding whether the cursor can be moved (TERM=dumb cannot). */
  env?: NodeJS.ProcessEnv;
}

/**
 * What the first progress line says of a plan: the probes that will be sent (not the skipped
 * ones), the lines they check, and their longest deadline (idle-timer checks, which last minutes
 * and are announced on their own, aside).
 */
export function startInfo(plan: Plan): { probes: number; lines: number; timeoutMs?: number } {
  const sent = plan.probes.filter((p) => !plan.skipped.has(p.id));
  const reach = sent.filter((p) => !p.line.startsWith('timers/'));
  const timeouts = (reach.length ? reach : sent).map((p) => p.timeoutMs);
  return { probes: sent.length, lines: new Set(sent.map((p) => p.line)).size, ...(timeouts.length ? { timeoutMs: Math.max(...timeouts) } : {}) };
}

/** Can this stream take `\r` and erase-line escapes? A terminal that is not `dumb`. */
export function canRedraw(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!stream.isTTY && env.TERM !== 'dumb';
}

/**
 * Time left, from the pace so far. Undefined until there is a pace to go by (a first second, a
 * first result): an early guess from one fast probe would promise far too little.
 */
export function estimateLeftMs(elapsedMs: number, done: number, total: number): number | undefined {
  if (done <= 0 || done >= total || elapsedMs < 1000) return undefined;
  return (elapsedMs / done) * (total - done);
}

/** Whole seconds as a person reads them on a progress line: 7s, 2m05s. */
function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : formatDuration(s * 1000);
}

export function makeProgress(label: string, quiet: boolean, o: ProgressOptions = {}): Progress {
  if (quiet) return { start: () => undefined, onResult: () => undefined, end: () => undefined };
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? Date.now;
  const tty = canRedraw(stream, o.env);
  const counts: Record<string, number> = {};
  const t0 = now();
  let last = 0;
  let done = 0;
  let total = 0;
  let ticker: NodeJS.Timeout | undefined;
  const line = (): string => {
    const elapsed = now() - t0;
    const left = estimateLeftMs(elapsed, done, total);
    return (
      `netcheck ${label}: ${done}/${total} probes` +
      (Object.keys(counts).length ? ` (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')})` : '') +
      ` · ${seconds(elapsed)} elapsed` +
      (done < total ? (left !== undefined ? ` · about ${seconds(Math.max(1000, left))} left` : ' · estimating time left') : '')
    );
  };
  const draw = (force: boolean): void => {
    const t = now();
    if (tty) {
      if (force || t - last > 80) {
        stream.write(`\r\x1b[K${line()}`);
        last = t;
      }
    } else if ((force || t - last > 2000) && done < total) {
      stream.write(`${line()}\n`);
      last = t;
    }
  };
  return {
    start: ({ probes, lines, timeoutMs }) => {
      total = probes;
      const what = `${probes} probe${probes === 1 ? '' : 's'}${lines !== undefined ? ` over ${lines} line${lines === 1 ? '' : 's'}` : ''}`;
      stream.write(`netcheck ${label}: checking ${what}${timeoutMs !== undefined ? `, up to ${timeoutMs % 1000 === 0 ? seconds(timeoutMs) : formatDuration(timeoutMs)} each` : ''}…\n`);
      last = now();
      // Redraw while every probe in flight is waiting on the network (no result to trigger it).
      ticker = setInterval(() => done < total && draw(false), tty ? 1000 : 2000);
      ticker.unref();
    },
    onResult: (r, d, t) => {
      counts[r.status] = (counts[r.status] ?? 0) + 1;
      done = d;
      total = t;
      draw(d === t);
    },
    end: () => {
      if (ticker) clearInterval(ticker);
      if (tty) stream.write(`\r\x1b[K`);
      if (total) stream.write(`${line()} — done\n`);
    },
  };
}
