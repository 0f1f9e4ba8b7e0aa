/**
 * Deadlines that adapt to the measured round trip, as nmap's do, for lines that sweep many TCP
 * targets. A fixed 3 s deadline makes a sweep through a firewall that drops half the targets take
 * (dropped × 3 s / concurrency); once a line has seen enough handshakes and resets, a SYN left
 * unanswered for many round trips is not going to be answered, so the deadline for the rest of the
 * line (and for its probes already in flight) becomes
 * `clamp(factor · (srtt + 4 · rttvar), floorMs, configured timeout)` (RFC 6298 estimator).
 * A probe cut by an adaptive deadline is re-sent once (a lost SYN is not a filter), and its outcome
 * says that an adaptive deadline was used, with the numbers behind it.
 */
import { ADAPTIVE_DEADLINE } from '../constants.js';
import type { ProbeOutcome, ProbeSpec } from '../types.js';

/** RFC 6298 smoothed round-trip estimator. */
export class RttEstimator {
  samples = 0;
  srttMs = 0;
  rttvarMs = 0;

  observe(rttMs: number): void {
    if (this.samples === 0) {
      this.srttMs = rttMs;
      this.rttvarMs = rttMs / 2;
    } else {
      this.rttvarMs = 0.75 * this.rttvarMs + 0.25 * Math.abs(this.srttMs - rttMs);
      this.srttMs = 0.875 * this.srttMs + 0.125 * rttMs;
    }
    this.samples++;
  }
}

/** The numbers behind an adaptive deadline, kept in the probe's `data.adaptiveDeadline`. */
export interface AdaptiveInfo {
  deadlineMs: number;
  srttMs: number;
  rttvarMs: number;
  samples: number;
  configuredTimeoutMs: number;
  /**
   * Event-loop delay during the attempt (ms), not counted against the deadline: time in which
   * this process could not have seen an answer that had arrived.
   */
  loopDelayMs: number;
}

/** Tuning, in one place (see {@link ADAPTIVE_DEADLINE}). */
export interface AdaptiveTuning {
  /** A line needs at least this many TCP probes before its deadlines adapt (a sweep, not a catalog line). */
  minProbes: number;
  /** Round-trip samples (handshakes or resets) needed before the estimate is trusted. */
  minSamples: number;
  floorMs: number;
  factor: number;
}

interface Group {
  est: RttEstimator;
  /** Attempts of this line in flight; checked against the line's current deadline every tick. */
  inflight: Set<Attempt>;
}

/**
 * How often in-flight probes are checked against their line's adaptive deadline. One shared timer
 * rather than one per probe: per-probe timers with thousands of distinct durations cost ~10% of a
 * 4,096-target loopback sweep (Node keeps one timer list per duration). Deadlines are ≥ floorMs
 * (100 ms), so firing up to one tick late is immaterial.
 */
const TICK_MS = 20;

/** One attempt of one probe under adaptive deadlines. */
export interface AdaptiveAttempt {
  /** Record the attempt's outcome; returns the adaptive deadline if that is what ended it. */
  end(outcome: ProbeOutcome): AdaptiveInfo | undefined;
}

const NONE: AdaptiveAttempt = { end: () => undefined };

/**
 * An attempt of a probe on an adaptive line. One object per attempt and nothing else: the deadline
 * is not computed per probe but once per line per tick, from the line's current estimate, and the
 * numbers behind it are copied only into an attempt it actually cuts.
 */
class Attempt implements AdaptiveAttempt {
  /** Set when the adaptive deadline cut this attempt: the numbers behind the cut. */
  info: AdaptiveInfo | undefined = undefined;
  readonly t0 = performance.now();
  /** The owner's cumulative event-loop delay when the attempt began. */
  readonly lag0: number;

  constructor(
    private readonly owner: AdaptiveDeadlines,
    readonly group: Group,
    readonly configuredMs: number,
    readonly ac: AbortController,
  ) {
    this.lag0 = owner.lagMs;
  }

  end(o: ProbeOutcome): AdaptiveInfo | undefined {
    return this.owner.finish(this, o);
  }
}

/** Per-line round-trip estimates and the adaptive deadlines derived from them. */
export class AdaptiveDeadlines {
  private readonly groups = new Map<string, Group>();
  private ticker: NodeJS.Timeout | undefined;
  /**
   * Event-loop delay seen so far (ms): how late the ticks fired, summed. On a host whose CPU is
   * busy (two CPU hogs on two cores gave 82 spurious `filtered` in 2 runs of a 4,094-target sweep,
   * issue 10), a handshake the kernel completed in a millisecond can wait hundreds of milliseconds
   * for the event loop to read it; that wait is this process's, not the network's, so deadlines
   * count only the time the loop was responsive.
   */
  lagMs = 0;
  private lastTickAt = 0;
  /** Attempts past their deadline at the last tick, with the numbers behind the cut. */
  private readonly due: { a: Attempt; info: AdaptiveInfo }[] = [];
  private cutPending = false;

  constructor(probes: ProbeSpec[], private readonly tuning: AdaptiveTuning = ADAPTIVE_DEADLINE) {
    const counts = new Map<string, number>();
    for (const p of probes) if (p.kind === 'tcp') counts.set(p.line, (counts.get(p.line) ?? 0) + 1);
    for (const [line, n] of counts) if (n >= tuning.minProbes) this.groups.set(line, { est: new RttEstimator(), inflight: new Set() });
  }

  /** The deadline this line's probes get now, or undefined while the estimate is not trusted. */
  private deadlineMs(g: Group, configuredMs: number): number | undefined {
    if (g.est.samples < this.tuning.minSamples) return undefined;
    const deadlineMs = Math.ceil(Math.max(this.tuning.floorMs, this.tuning.factor * (g.est.srttMs + 4 * g.est.rttvarMs)));
    return deadlineMs < configuredMs ? deadlineMs : undefined;
  }

  private trusted(g: Group): boolean {
    return g.est.samples >= this.tuning.minSamples;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTickAt - TICK_MS;
    if (late > 0) this.lagMs += late;
    this.lastTickAt = now;
    let waiting = 0;
    for (const g of this.groups.values()) {
      if (g.inflight.size === 0) continue;
      waiting += g.inflight.size;
      if (!this.trusted(g)) continue;
      // Usually every probe of a line has the same configured timeout: compute its deadline once.
      let lastConfigured = -1;
      let d: number | undefined;
      for (const a of g.inflight) {
        if (a.configuredMs !== lastConfigured) {
          lastConfigured = a.configuredMs;
          d = this.deadlineMs(g, a.configuredMs);
        }
        if (d === undefined || a.info || now - a.t0 - (this.lagMs - a.lag0) < d) continue;
        const r = (v: number): number => Math.round(v * 100) / 100;
        this.due.push({ a, info: { deadlineMs: d, srttMs: r(g.est.srttMs), rttvarMs: r(g.est.rttvarMs), samples: g.est.samples, configuredTimeoutMs: a.configuredMs, loopDelayMs: Math.round(this.lagMs - a.lag0) } });
      }
    }
    // Cut after the poll phase, not now: answers that reached the kernel while the loop was busy
    // are read first (timers run before I/O callbacks in each turn of the loop).
    if (this.due.length > 0 && !this.cutPending) {
      this.cutPending = true;
      setImmediate(() => this.cutDue());
    }
    if (waiting === 0) this.stopTicker();
  }

  private cutDue(): void {
    this.cutPending = false;
    for (const { a, info } of this.due.splice(0)) {
      if (!a.group.inflight.has(a) || a.info) continue;
      a.info = info;
      a.ac.abort();
    }
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.lastTickAt = performance.now();
    this.ticker = setInterval(() => this.tick(), TICK_MS);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /**
   * The adaptive deadline a probe of `spec` would be held to right now (ms), or undefined when it
   * keeps its configured timeout (a line with few TCP probes, not TCP, or no trusted estimate yet).
   */
  currentDeadlineMs(spec: ProbeSpec): number | undefined {
    const g = spec.kind === 'tcp' ? this.groups.get(spec.line) : undefined;
    return g ? this.deadlineMs(g, spec.timeoutMs) : undefined;
  }

  /** Start one attempt of `spec`; `ac` is aborted if the adaptive deadline passes first. */
  begin(spec: ProbeSpec, ac: AbortController): AdaptiveAttempt {
    const g = spec.kind === 'tcp' ? this.groups.get(spec.line) : undefined;
    if (!g) return NONE;
    const a = new Attempt(this, g, spec.timeoutMs, ac);
    g.inflight.add(a);
    // Ticking from the first attempt, trusted or not: the loop delay an attempt lives through must
    // be known when its line's deadline starts to apply.
    this.startTicker();
    return a;
  }

  /** @internal {@link Attempt.end}. */
  finish(a: Attempt, o: ProbeOutcome): AdaptiveInfo | undefined {
    const g = a.group;
    g.inflight.delete(a);
    const cut = a.info && o.status === 'filtered' ? a.info : undefined;
    // A handshake or a reset is one round trip; silence is not a sample.
    const rtt = o.phases?.connectMs;
    if (!cut && rtt !== undefined && (o.status === 'ok' || o.reason === 'ECONNREFUSED')) g.est.observe(rtt);
    return cut;
  }
}

/** Rewrite a SYN timeout cut by adaptive deadlines so the report says how the deadline was set. */
export function describeAdaptive(o: ProbeOutcome, cuts: AdaptiveInfo[]): ProbeOutcome {
  const last = cuts[cuts.length - 1]!;
  const each = cuts.map((c) => `${c.deadlineMs}ms`).join(' and ');
  return {
    ...o,
    reason: 'SYN_TIMEOUT',
    detail:
      `no answer to ${cuts.length} connection request(s) within ${each}: deadlines adapted to the round trip measured on this line ` +
      `(srtt ${last.srttMs}ms, rttvar ${last.rttvarMs}ms over ${last.samples} handshakes/resets; configured timeout ${last.configuredTimeoutMs}ms` +
      `${cuts.some((c) => c.loopDelayMs > 0) ? `; event-loop delay of ${cuts.map((c) => `${c.loopDelayMs}ms`).join(' and ')} not counted` : ''}). ` +
      'SYN dropped by a firewall, or no host',
    data: { ...o.data, adaptiveDeadline: { ...last, deadlinesMs: cuts.map((c) => c.deadlineMs) } },
  };
}
