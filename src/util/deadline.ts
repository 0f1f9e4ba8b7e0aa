/**
 * Waiting until an absolute moment. Idle-timer checks measure gaps of minutes, and counting
 * setInterval ticks drifts by about a second a minute under load (issue 3): every wait here is
 * computed against a fixed deadline on the monotonic clock, and re-armed if a timer fires early.
 */

/** Monotonic milliseconds (never jumps with the wall clock). */
export function nowMs(): number {
  return performance.now();
}

/**
 * Call `fn` once when `deadlineMs` (on the {@link nowMs} clock) is reached. Returns a cancel
 * function. Node timers may fire up to a millisecond early; the timer is re-armed until the
 * deadline has really passed, so a gap is never cut short.
 */
export function atDeadline(deadlineMs: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = (): void => {
    const left = deadlineMs - nowMs();
    if (left <= 0) {
      timer = undefined;
      if (!cancelled) fn();
      return;
    }
    // setTimeout takes a 32-bit delay; longer waits are re-armed in steps.
    timer = setTimeout(arm, Math.min(Math.ceil(left), 2_000_000_000));
  };
  arm();
  return () => {
    cancelled = true;
    if (timer) clearTimeout(timer);
  };
}
