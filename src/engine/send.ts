/**
 * Sending one probe until its outcome is worth reporting: the same probe again after a transient
 * or ambiguous outcome (retries), after this host ran out of file descriptors (fewer in flight,
 * then again), or after an adaptive deadline cut it short (one more before judging); a Ctrl-C that
 * cut it short says so. The scheduler (run.ts) decides which probe a worker sends next.
 */
import { describeAdaptive, type AdaptiveDeadlines, type AdaptiveInfo } from './rtt.js';
import { internalError, probeContext, type Slot } from './attempt.js';
import type { FdThrottle } from './fd-throttle.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec, Prober } from '../types.js';
import { because, FD_REASONS, RETRYABLE_REASONS } from '../reasons.js';

/** What every probe of a run is sent with. */
export interface SendEnv {
  base: Omit<ProbeContext, 'signal' | 'timeoutMs' | 'onDeadline'>;
  retries: number;
  adaptive: AdaptiveDeadlines;
  fd: FdThrottle;
  /** Aborting stops retries; probes in flight finish within their own deadline. */
  stopSignal?: AbortSignal;
  /** Aborting cancels probes in flight too (a second Ctrl-C). */
  hardSignal?: AbortSignal;
}

/** A probe's final outcome, and how many attempts it took. */
export interface Sent {
  outcome: ProbeOutcome & { internal?: boolean; local?: boolean };
  attempts: number;
}

/** Sends the probes of one run, counting those in flight (what a file-descriptor shortage is measured against). */
export class ProbeSender {
  /** Probes being sent right now (between the start and the end of {@link send}). */
  inFlight = 0;
  private readonly inFlightNow = (): number => this.inFlight;
  constructor(private readonly env: SendEnv) {}

  /** Send `spec` with `prober`, attempt after attempt on the worker's `slot`, until its outcome is final. */
  async send(spec: ProbeSpec, prober: Prober, slot: Slot): Promise<Sent> {
    const { base, retries, adaptive, fd, stopSignal, hardSignal } = this.env;
    let attempts = 0;
    let outcome: ProbeOutcome & { internal?: boolean; local?: boolean };
    let cuts: AdaptiveInfo[] | undefined;
    let fdRetries = 0;
    this.inFlight++;
    for (;;) {
      attempts++;
      // The worker's controller, aborted at the deadline, by the run's single hardSignal listener
      // or by an adaptive deadline: one listener per probe on hardSignal made 4,096 probes
      // quadratic (EventTarget scans its listeners on every add).
      const ac = slot.controller();
      if (hardSignal?.aborted) ac.abort();
      const attempt = adaptive.begin(spec, ac);
      const generation = fd.generation;
      slot.arm(spec.timeoutMs);
      try {
        outcome = await slot.run(spec, prober(spec, probeContext(base, slot, spec.timeoutMs)));
      } catch (err) {
        outcome = internalError(spec, err);
      } finally {
        slot.disarm();
      }
      const cut = attempt.end(outcome);
      if (FD_REASONS.has(outcome.reason)) {
        // This host ran out of file descriptors: fewer probes in flight, then the same probe again.
        if (fdRetries < fd.retryLimit() && !stopSignal?.aborted) {
          fdRetries++;
          fd.lower(this.inFlight, generation);
          this.inFlight--;
          await fd.wait(fdRetries, this.inFlightNow);
          this.inFlight++;
          continue;
        }
        outcome = fd.gaveUp(outcome);
        break;
      }
      if (cut) {
        (cuts ??= []).push(cut);
        // Silence after an adaptive deadline is ambiguous (a lost SYN): send one more before judging.
        if (cuts.length < 2 && !stopSignal?.aborted) continue;
        outcome = describeAdaptive(outcome, cuts);
        break;
      }
      if (!RETRYABLE_REASONS.has(outcome.reason) || attempts > retries || stopSignal?.aborted) break;
    }
    if (hardSignal?.aborted && outcome.status !== 'ok') {
      // Cut short by the user, not by the network: say so rather than guess.
      outcome = { ...because('INTERRUPTED'), detail: 'interrupted before the probe finished' };
    }
    this.inFlight--;
    return { outcome, attempts };
  }
}
