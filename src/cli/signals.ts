/**
 * Ctrl-C, SIGTERM and a closed stdout, for the whole process (issue 11).
 *
 * bin/netcheck.js installs the SIGINT/SIGTERM listeners as its very first statements, before any
 * module loads, and records what arrives until {@link adoptSignals} takes over: a signal in the
 * first second of a run (while modules load and the catalog expands) is therefore not the
 * default action (death, no report) but a stop like any other. A run that sees the stop before
 * it starts sends nothing and writes its report with no probes; one in progress stops scheduling,
 * lets probes in flight finish, and writes what it measured. The second signal cancels probes in
 * flight; the third exits at once (130) for a user who will not wait. Commands with nothing to
 * save (plan, list, validate, …) exit 130 at the first.
 */
import { EXIT } from '../errors.js';

/** What the shim leaves on globalThis: the signals seen so far, and where to send later ones. */
interface EarlySignals {
  received: NodeJS.Signals[];
  forward?: (sig: NodeJS.Signals) => void;
}

const EARLY = Symbol.for('netcheck.signals');

/** How the process reacts to a first signal: `defer` keeps going (a run writes its report), `exit` ends it. */
export type SignalMode = 'defer' | 'exit';

class Interrupts {
  /** Aborted by the first signal: stop scheduling probes. */
  readonly stop = new AbortController();
  /** Aborted by the second: cancel probes in flight. */
  readonly hard = new AbortController();
  count = 0;
  mode: SignalMode = 'defer';
  /** A run in progress wants the "finishing probes in flight" notice (unless --quiet). */
  notice: ((count: number) => void) | undefined;

  onSignal(sig: NodeJS.Signals): void {
    this.count++;
    if (this.mode === 'exit' || this.count >= 3) {
      if (this.count >= 3) process.stderr.write(`\nnetcheck: ${sig} a third time: exiting without waiting for the report\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    if (this.count === 1) this.stop.abort();
    else this.hard.abort();
    this.notice?.(this.count);
  }
}

/** The process's one interrupt state. */
export const interrupts = new Interrupts();

let adopted = false;

/**
 * Take over SIGINT/SIGTERM from the shim (or install the listeners, when main runs without it),
 * replaying what arrived before. Idempotent.
 */
export function adoptSignals(mode: SignalMode): void {
  interrupts.mode = mode;
  if (adopted) return;
  adopted = true;
  const g = globalThis as unknown as Record<symbol, EarlySignals | undefined>;
  let early = g[EARLY];
  if (!early) {
    early = { received: [] };
    const listener = (sig: NodeJS.Signals): void => {
      early!.received.push(sig);
      early!.forward?.(sig);
    };
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    g[EARLY] = early;
  }
  for (const sig of early.received) interrupts.onSignal(sig);
  early.forward = (sig) => interrupts.onSignal(sig);
}

/**
 * Why stdout could not be written, once it could not: `EPIPE` when its reader went away
 * (`netcheck … | head -1`), else an I/O error (stdout redirected to a full disk). See {@link guardPipes}.
 */
export let stdoutError: string | undefined;

/** A failed write to stdout seen by a writer that caught it itself (a streamed JSON report). */
export function noteStdoutError(code: string | undefined): void {
  stdoutError ??= code === 'ERR_STREAM_DESTROYED' || code === undefined ? 'EPIPE' : code;
}

/**
 * A closed pipe is the reader's choice, not an error: stop writing to it, finish what else was
 * asked (the --output file, the textfile), and exit 141 as a Unix tool killed by SIGPIPE would,
 * quietly. Without a listener Node turns EPIPE into an uncaught exception (a stack trace, exit 1:
 * "a required line failed"). Errors on stderr are ignored: there is nowhere left to report them.
 */
export function guardPipes(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutError ??= err.code === 'ERR_STREAM_DESTROYED' ? 'EPIPE' : (err.code ?? 'EIO');
  });
  process.stderr.on('error', () => undefined);
}
