/** The engine's answer to this host running out of file descriptors during a run. */
import type { FdShortage, ProbeOutcome } from '../types.js';

/**
 * What the engine does when this host runs out of file descriptors (EMFILE, ENFILE): a sweep at
 * `--concurrency 512` under `ulimit -n 256` would otherwise report most of its probes as errors,
 * and a network that works as "no outbound connectivity". Each shortage halves the probes allowed
 * in flight (from those in flight when it was seen) and the probe is re-sent once others have
 * ended; a probe that still gets it with nothing else in flight is given up as a `local` result.
 */
export class FdThrottle {
  /** Most probes allowed in flight; workers above it stop. Never raised again within a run. */
  cap: number;
  shortage: FdShortage | undefined;
  /** A probe already failed alone: later ones get one retry, not a full back-off each. */
  private hopeless = false;

  constructor(concurrency: number) {
    this.cap = concurrency;
  }

  retryLimit(): number {
    return this.hopeless ? 1 : 8;
  }

  /** Bumped at each lowering: attempts started before it were sent under the old limit. */
  generation = 0;

  /**
   * An attempt started at `generation` got EMFILE with `inFlight` probes in flight. Only attempts
   * started under the current limit lower it again (once per wave, as TCP halves its window once
   * per round trip): the hundred probes of one burst must not halve it a hundred times.
   */
  lower(inFlight: number, generation: number): void {
    this.shortage ??= { inFlight, loweredTo: this.cap, retried: 0, gaveUp: 0 };
    this.shortage.retried++;
    if (generation !== this.generation) return;
    const to = Math.max(1, Math.floor(Math.min(inFlight, this.cap) / 2));
    if (to < this.cap) {
      this.cap = to;
      this.generation++;
    }
    this.shortage.loweredTo = this.cap;
  }

  /** Back off (10 ms, doubling, at most 1 s) until the others in flight are within the limit. */
  async wait(retry: number, inFlight: () => number): Promise<void> {
    const until = performance.now() + Math.min(1000, 10 * 2 ** retry);
    do await new Promise((r) => setTimeout(r, 10));
    while (inFlight() >= this.cap && performance.now() < until);
    if (inFlight() >= this.cap) return;
    // Give the descriptors of the probes that just ended a moment to be closed by the kernel.
    await new Promise((r) => setTimeout(r, Math.min(200, 5 * retry)));
  }

  gaveUp(o: ProbeOutcome): ProbeOutcome & { local: true } {
    this.hopeless = true;
    if (this.shortage) this.shortage.gaveUp++;
    return {
      ...o,
      status: 'error',
      detail: `this host ran out of file descriptors (${o.reason}), still after netcheck lowered the probes in flight to ${this.cap}, so the probe could not be sent; raise the limit (ulimit -n) and run again`,
      local: true,
    };
  }
}
