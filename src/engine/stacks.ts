/**
 * Stack traces on the probe path (issue 14). Every refused or reset connection of a sweep reaches
 * netcheck as an Error that Node builds inside its own socket code: V8 captures a stack trace when
 * the error is constructed, and Node's stream teardown formats it (it reads `err.stack`) before
 * netcheck's prober classifies the code into a status and drops the error. At 57,000 refusals in a
 * 65,534-target sweep that was ~30 µs per probe, for traces nobody ever reads.
 *
 * Those errors are created in callbacks that libuv makes into Node, not under netcheck's frames,
 * and V8 reads the one global `Error.stackTraceLimit` when any error is constructed, so the limit
 * cannot follow "expected network error" vs "bug". While a run's probes are in flight the limit
 * is therefore 0, and bugs are handled like this instead:
 *
 * - the first time a prober throws (an `INTERNAL` outcome), the limit goes back to what it was for
 *   the rest of the process, so a bug that recurs (in a sweep, it recurs on every probe) carries its
 *   stack in `data.stack` from its second occurrence on;
 * - `NETCHECK_STACK_TRACES=1` keeps stack traces on throughout (the debug switch, in the README):
 *   then even the first occurrence carries its stack.
 *
 * Runs may overlap (the daemon, the control probe beside the sweep): the limit is restored when the
 * last one ends.
 */

/** The environment variable that keeps stack traces on during runs. */
export const STACK_TRACES_ENV = 'NETCHECK_STACK_TRACES';

let active = 0;
let saved: number | undefined;
/** Set by the first internal error: stack traces stay on for the rest of the process. */
let bugSeen = false;

function wanted(): boolean {
  const v = process.env[STACK_TRACES_ENV];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Turn stack traces off while a run's probes are in flight; returns the function that ends this
 * run's share (idempotent). Does nothing with {@link STACK_TRACES_ENV} set or after a bug was seen.
 */
export function quietStacks(): () => void {
  if (wanted() || bugSeen) return () => {};
  if (active++ === 0) {
    saved = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  }
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    if (--active === 0 && saved !== undefined && !bugSeen) {
      Error.stackTraceLimit = saved;
      saved = undefined;
    }
  };
}

/**
 * A prober threw: turn stack traces back on for good, so the next occurrence of the bug carries
 * its stack. Returns the stack of `err` when it has frames, else undefined.
 */
export function bugStack(err: unknown): string | undefined {
  if (!bugSeen) {
    bugSeen = true;
    if (saved !== undefined) Error.stackTraceLimit = saved;
    saved = undefined;
  }
  const stack = err instanceof Error ? err.stack : undefined;
  return stack && /\n\s+at /.test(stack) ? stack : undefined;
}

/** For tests: forget that a bug was seen (stack traces are quieted again by the next run). */
export function resetStackPolicyForTests(): void {
  bugSeen = false;
}
