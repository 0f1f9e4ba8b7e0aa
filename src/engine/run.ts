/**
 * The engine: runs probes concurrently under a global and a per-destination limit, gives each
 * probe its deadline as an AbortSignal, retries only transient or ambiguous outcomes, and stops
 * scheduling on interruption while letting in-flight probes settle.
 */
import { lookup as dnsLookup, Resolver } from 'node:dns/promises';
import { getEventListeners } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULTS, RETRYABLE_REASONS } from '../constants.js';
import { PROBERS } from '../probers/index.js';
import { AdaptiveDeadlines, describeAdaptive, type AdaptiveInfo } from './rtt.js';
import type { ProbeContext, ProbeOutcome, ProbeProgress, ProbeResult, ProbeSpec, ResolvedAddress } from '../types.js';

export interface EngineOptions {
  /** Most probes in flight at once. */
  concurrency?: number;
  /** Probes in flight at the start; widened up to `concurrency` while the event loop idles. */
  initialConcurrency?: number;
  perHostConcurrency?: number;
  /** Explicit DNS servers (`host[:port]`); absent means the system resolver. */
  dnsServers?: string[];
  family?: 4 | 6;
  /** HTTP proxies for the kinds that can use one (src/net/proxy.ts); absent means direct. */
  proxy?: ProbeContext['proxy'];
  /** Aborting stops scheduling; probes in flight finish within their own deadline. */
  stopSignal?: AbortSignal;
  /** Aborting cancels probes in flight too (a second Ctrl-C). */
  hardSignal?: AbortSignal;
  /** Called as each probe settles. */
  onResult?: (r: ProbeResult, done: number, total: number) => void;
  /** Called as each probe starts. */
  onStart?: (spec: ProbeSpec) => void;
  retries?: number;
  /**
   * Re-probe UDP ports that stayed silent while other ports of the same destination were refused
   * (the ICMP rate-limit signature), paced at this interval. 0 disables the recheck.
   */
  udpRecheckIntervalMs?: number;
  /**
   * Lines sweeping many TCP targets shorten their SYN deadline to the measured round trip
   * (src/engine/rtt.ts). Default on; false keeps every probe's configured timeout.
   */
  adaptiveDeadlines?: boolean;
  /** Upper bound on the whole UDP recheck phase. */
  udpRecheckBudgetMs?: number;
  /** Progress of long probes (idle-timer checks): flows alive/lost so far. */
  onProgress?: (update: ProbeProgress) => void;
  /** Shared secret of the netcheck reflector, passed to idle-timer probes (never put in specs). */
  reflectorSecret?: string;
  /** Pinned certificate of the netcheck reflector (wss), passed to WebSocket probes. */
  reflectorFingerprint?: string;
}

export interface EngineResult {
  results: ProbeResult[];
  interrupted: boolean;
}

/** A resolver shared by a run: each name is resolved once, whatever the number of probes. */
export function makeLookup(dnsServers?: string[]): (host: string) => Promise<ResolvedAddress[]> {
  const cache = new Map<string, Promise<ResolvedAddress[]>>();
  let resolver: Resolver | undefined;
  if (dnsServers?.length) {
    resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers(dnsServers);
  }
  return (host) => {
    let p = cache.get(host);
    if (!p) {
      p = resolver ? resolveWith(resolver, host) : dnsLookup(host, { all: true, verbatim: true }).then((all) => all.map((a) => ({ address: a.address, family: a.family as 4 | 6 })));
      cache.set(host, p);
    }
    return p;
  };
}

async function resolveWith(resolver: Resolver, host: string): Promise<ResolvedAddress[]> {
  const [a, aaaa] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const out: ResolvedAddress[] = [];
  if (a.status === 'fulfilled') out.push(...a.value.map((address) => ({ address, family: 4 as const })));
  if (aaaa.status === 'fulfilled') out.push(...aaaa.value.map((address) => ({ address, family: 6 as const })));
  if (out.length === 0) {
    // Prefer the A error: it is the one a client would hit first.
    throw a.status === 'rejected' ? a.reason : (aaaa as PromiseRejectedResult).reason;
  }
  return out;
}

/**
 * Run one probe with its deadline; bugs become an `error` outcome marked internal. For single
 * probes outside a run's workers (the control probe, UDP rechecks); runProbes inlines the same.
 */
export async function runOne(spec: ProbeSpec, base: Omit<ProbeContext, 'signal' | 'timeoutMs'>, hardSignal?: AbortSignal): Promise<ProbeOutcome & { internal?: boolean }> {
  const prober = PROBERS[spec.kind];
  if (!prober) return unknownKind(spec);
  // One controller and a plain timer held by this frame, not AbortSignal.any([AbortSignal.timeout()]):
  // on Node 20 the timeout signal inside a composite can be garbage-collected before it fires
  // (nodejs/node#57736). In a 4,096-target sweep through a dropping firewall that left probes
  // waiting ~130 s for the kernel's own SYN timeout instead of their 3 s deadline.
  const ac = new AbortController();
  const timer = setTimeout(abortAfterPoll, spec.timeoutMs, ac);
  let onHard: (() => void) | undefined;
  if (hardSignal?.aborted) ac.abort();
  else if (hardSignal) hardSignal.addEventListener('abort', (onHard = () => ac.abort()), { once: true });
  try {
    return await prober(spec, probeContext(base, ac.signal, spec.timeoutMs));
  } catch (err) {
    return internalError(spec, err);
  } finally {
    clearTimeout(timer);
    if (onHard) hardSignal?.removeEventListener('abort', onHard);
  }
}

function unknownKind(spec: ProbeSpec): ProbeOutcome & { internal: true } {
  return { status: 'error', reason: 'UNKNOWN_KIND', detail: `no prober for kind '${spec.kind}'`, internal: true };
}

/** A prober that throws has a bug: say so, as an outcome, rather than crash the run. */
function internalError(spec: ProbeSpec, err: unknown): ProbeOutcome & { internal: true } {
  return { status: 'error', reason: 'INTERNAL', detail: `netcheck bug in the ${spec.kind} prober: ${(err as Error).message}`, internal: true };
}

/**
 * A probe's deadline fell due: abort it, but only after the event loop's next poll phase. When
 * this process was busy or starved of CPU past the deadline, the timer and the network's answer
 * (a completed handshake, a reply) are due in the same loop iteration, and timers run first; the
 * answer is already here and must count, or a late timer on this host reads as silence on the
 * network (seen under load: connects to a listening loopback port judged SYN_TIMEOUT). Waiting one
 * poll costs nothing when the network really was silent.
 */
function abortAfterPoll(ac: AbortController): void {
  setImmediate(abortNow, ac);
}

function abortNow(ac: AbortController): void {
  ac.abort();
}

/**
 * The context of one attempt. Every field written out, in one order: a spread of the run's base
 * context cost ~5 µs per probe (a slow-path copy), a tenth of a loopback connect.
 */
function probeContext(base: Omit<ProbeContext, 'signal' | 'timeoutMs'>, signal: AbortSignal, timeoutMs: number): ProbeContext {
  return {
    signal,
    timeoutMs,
    lookup: base.lookup,
    dnsServers: base.dnsServers,
    family: base.family,
    stopSignal: base.stopSignal,
    progress: base.progress,
    reflectorSecret: base.reflectorSecret,
    reflectorFingerprint: base.reflectorFingerprint,
    proxy: base.proxy,
  };
}

/**
 * What one worker of {@link runProbes} reuses from probe to probe: its AbortController and its
 * deadline timer. In a 4,096-target loopback sweep each probe costs ~70 µs of Node's own socket
 * work; a fresh AbortSignal (~4 µs: Node swaps its prototype), a setTimeout/clearTimeout pair and
 * an async wrapper per probe were a visible share of the rest (BENCHMARKS.md, item i).
 */
class Slot {
  ac = new AbortController();
  /** The controller the deadline timer aborts; undefined between attempts. */
  private armed: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerMs = -1;

  /**
   * The controller for the next attempt. Replaced once it has been aborted, or if a prober left a
   * listener on its signal, so no probe ever sees another's abort.
   */
  controller(): AbortController {
    if (this.ac.signal.aborted || getEventListeners(this.ac.signal, 'abort').length > 0) this.ac = new AbortController();
    return this.ac;
  }

  /** Bumped by every arm(): a deferred abort of an earlier attempt must not reach a later one. */
  private generation = 0;

  /**
   * Abort the current controller after `ms`, re-arming the slot's one timer (no allocation). The
   * abort waits for the next poll phase, so answers already received count first ({@link abortAfterPoll}).
   */
  arm(ms: number): void {
    this.armed = this.ac;
    this.generation++;
    if (this.timer && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.due(), ms);
    this.timerMs = ms;
  }

  private due(): void {
    const generation = this.generation;
    setImmediate(() => {
      if (generation === this.generation) this.armed?.abort();
    });
  }

  /** The attempt settled: a later firing of the timer aborts nothing. */
  disarm(): void {
    this.armed = undefined;
  }

  /** The worker is done: the timer must not hold the process open. */
  close(): void {
    this.armed = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** Run every probe of a plan. Skipped probes (with a reason) are reported without being sent. */
export async function runProbes(probes: ProbeSpec[], skipped: Map<string, string>, opts: EngineOptions = {}): Promise<EngineResult> {
  const concurrency = opts.concurrency ?? DEFAULTS.concurrency;
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, not ${concurrency}`);
  const perHost = new Map<string, LimitFunction>();
  const perHostMax = opts.perHostConcurrency ?? DEFAULTS.perHostConcurrency;
  // A destination with no more probes than its limit can never be held back: it gets no limiter.
  // In a sweep of 4,096 addresses that saves 4,096 limiters and their queues.
  const perHostCount = new Map<string, number>();
  for (const p of probes) perHostCount.set(p.host, (perHostCount.get(p.host) ?? 0) + 1);
  for (const [h, n] of perHostCount) if (n > perHostMax) perHost.set(h, pLimit(perHostMax));
  const base: Omit<ProbeContext, 'signal' | 'timeoutMs'> = {
    lookup: makeLookup(opts.dnsServers),
    ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    ...(opts.family ? { family: opts.family } : {}),
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
    // Idle-timer probes last minutes: they stop early on the first Ctrl-C and report progress.
    ...(opts.stopSignal ? { stopSignal: opts.stopSignal } : {}),
    ...(opts.onProgress ? { progress: opts.onProgress } : {}),
    ...(opts.reflectorSecret !== undefined ? { reflectorSecret: opts.reflectorSecret } : {}),
    ...(opts.reflectorFingerprint !== undefined ? { reflectorFingerprint: opts.reflectorFingerprint } : {}),
  };
  const retries = opts.retries ?? DEFAULTS.retries;
  const adaptive = new AdaptiveDeadlines(opts.adaptiveDeadlines === false ? [] : probes);
  // Each worker reuses one controller and one timer (Slot). A second Ctrl-C aborts every
  // worker's current controller.
  const slots: Slot[] = [];
  const onHard = (): void => {
    for (const slot of slots) slot.ac.abort();
  };
  opts.hardSignal?.addEventListener('abort', onHard, { once: true });
  const results = new Map<string, ProbeResult>();
  let done = 0;
  const total = probes.length;
  let interrupted = false;
  // Wall-clock start of each probe, derived from the monotonic clock, formatted once per
  // millisecond: a sweep starts ~10 probes per millisecond, and toISOString was most of execute().
  const epoch0 = Date.now();
  const perf0 = performance.now();
  let isoMs = NaN;
  let iso = '';
  const startedAtOf = (t0: number): string => {
    const ms = Math.floor(epoch0 + (t0 - perf0));
    if (ms !== isoMs) {
      isoMs = ms;
      iso = new Date(ms).toISOString();
    }
    return iso;
  };

  const record = (r: ProbeResult): void => {
    results.set(r.id, r);
    done++;
    opts.onResult?.(r, done, total);
  };

  const execute = async (spec: ProbeSpec, slot: Slot): Promise<void> => {
    const t0 = performance.now();
    const prober = PROBERS[spec.kind];
    if (!prober) {
      record(toResult(spec, unknownKind(spec), startedAtOf(t0), 0, 0));
      return;
    }
    let attempts = 0;
    let outcome: ProbeOutcome & { internal?: boolean };
    let cuts: AdaptiveInfo[] | undefined;
    for (;;) {
      attempts++;
      // The worker's controller, aborted at the deadline, by the run's single hardSignal listener
      // or by an adaptive deadline: one listener per probe on hardSignal made 4,096 probes
      // quadratic (EventTarget scans its listeners on every add). What runOne does, inlined.
      const ac = slot.controller();
      if (opts.hardSignal?.aborted) ac.abort();
      const attempt = adaptive.begin(spec, ac);
      slot.arm(spec.timeoutMs);
      try {
        outcome = await prober(spec, probeContext(base, ac.signal, spec.timeoutMs));
      } catch (err) {
        outcome = internalError(spec, err);
      } finally {
        slot.disarm();
      }
      const cut = attempt.end(outcome);
      if (cut) {
        (cuts ??= []).push(cut);
        // Silence after an adaptive deadline is ambiguous (a lost SYN): send one more before judging.
        if (cuts.length < 2 && !opts.stopSignal?.aborted) continue;
        outcome = describeAdaptive(outcome, cuts);
        break;
      }
      if (!RETRYABLE_REASONS.has(outcome.reason) || attempts > retries || opts.stopSignal?.aborted) break;
    }
    if (opts.hardSignal?.aborted && outcome.status !== 'ok') {
      // Cut short by the user, not by the network: say so rather than guess.
      outcome = { status: 'skipped', reason: 'INTERRUPTED', detail: 'interrupted before the probe finished' };
    }
    record(toResult(spec, outcome, startedAtOf(t0), performance.now() - t0, attempts));
  };

  // Scheduling: `concurrency` workers take the next probe in plan order, so a sweep of thousands
  // of targets allocates per worker, not per queued probe. A destination with more probes than
  // its limit is held to it by its own p-limit (the worker waits, as a queued probe would).
  const runnable: ProbeSpec[] = [];
  for (const spec of probes) {
    const why = skipped.get(spec.id);
    if (why) record(toResult(spec, { status: 'skipped', reason: 'NOT_APPLICABLE', detail: why }, startedAtOf(performance.now()), 0, 0));
    else runnable.push(spec);
  }
  let next = 0;
  /** Start `spec` unless the run was stopped (also after waiting for its destination's limit). */
  const start = async (spec: ProbeSpec, slot: Slot): Promise<void> => {
    if (opts.stopSignal?.aborted) {
      interrupted = true;
      return;
    }
    opts.onStart?.(spec);
    await execute(spec, slot);
  };
  const worker = async (): Promise<void> => {
    const slot = new Slot();
    slots.push(slot);
    try {
      while (next < runnable.length && !opts.stopSignal?.aborted) {
        const spec = runnable[next++]!;
        const limit = perHost.get(spec.host);
        await (limit ? limit(() => start(spec, slot)) : start(spec, slot));
      }
      if (next < runnable.length) interrupted = true;
    } finally {
      slot.close();
    }
  };
  // Start narrow and widen while the event loop has idle time: a catalog whose probes wait on the
  // network (silent UDP, dropped SYNs) reaches the full `concurrency` within a few intervals; a
  // loopback sweep that keeps this host's CPU busy stays narrow, where it is fastest.
  const workers: Promise<void>[] = [];
  const widen = (to: number): void => {
    while (workers.length < Math.min(to, concurrency, runnable.length)) workers.push(worker());
  };
  widen(opts.initialConcurrency ?? DEFAULTS.initialConcurrency);
  let widener: NodeJS.Timeout | undefined;
  if (workers.length < Math.min(concurrency, runnable.length)) {
    let elu = performance.eventLoopUtilization();
    widener = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
      if (next >= runnable.length || workers.length >= concurrency) {
        clearInterval(widener);
        return;
      }
      if (busy < DEFAULTS.widenBelowUtilisation) widen(workers.length * 2);
    }, DEFAULTS.widenIntervalMs);
  }
  try {
    // Workers added while waiting are awaited in the next round.
    for (let settled = 0; settled < workers.length; ) {
      const upTo = workers.length;
      await Promise.all(workers.slice(settled, upTo));
      settled = upTo;
    }
  } finally {
    clearInterval(widener);
  }

  opts.hardSignal?.removeEventListener('abort', onHard);
  if (!opts.stopSignal?.aborted) await udpRecheck(probes, results, base, opts);
  if (opts.stopSignal?.aborted) interrupted = true;

  // Keep plan order; probes never started (interrupted) are absent, not invented.
  const ordered = probes.map((p) => results.get(p.id)).filter((r): r is ProbeResult => r !== undefined);
  return { results: ordered, interrupted };
}

function toResult(spec: ProbeSpec, o: ProbeOutcome & { internal?: boolean }, startedAt: string, durationMs: number, attempts: number): ProbeResult {
  // One literal of one shape, no spreads: this runs once per probe, thousands of times in a sweep.
  // Absent optional fields are undefined (JSON leaves them out).
  const r: ProbeResult = {
    id: spec.id,
    line: spec.line,
    kind: spec.kind,
    host: spec.host,
    port: spec.port,
    sampledFrom: spec.sampledFrom,
    startedAt,
    durationMs: Math.round(durationMs * 10) / 10,
    attempts,
    status: o.status,
    reason: o.reason,
    detail: o.detail,
    address: o.address,
    phases: o.phases,
    data: o.data,
  };
  if (o.internal) r.internal = true;
  return r;
}

/**
 * Linux (and most firewalls) rate-limit ICMP: a burst of about 6, then one per second per
 * destination (the kernel's icmp_ratelimit). A sweep that sees some ports refused and others silent on the
 * same destination has probably lost ICMP errors, not found open ports. Re-probe those silent
 * ports one at a time, paced, so a refusal is not mistaken for silence. Ports still silent stay
 * `open|filtered`; ports not rechecked within the budget say the rate limit was suspected.
 */
async function udpRecheck(
  probes: ProbeSpec[],
  results: Map<string, ProbeResult>,
  base: Omit<ProbeContext, 'signal' | 'timeoutMs'>,
  opts: EngineOptions,
): Promise<void> {
  const interval = opts.udpRecheckIntervalMs ?? DEFAULTS.udpRecheckIntervalMs;
  if (interval <= 0) return;
  const budgetEnd = performance.now() + (opts.udpRecheckBudgetMs ?? 120_000);
  const byDest = new Map<string, ProbeSpec[]>();
  for (const p of probes) {
    if (p.kind !== 'udp') continue;
    const r = results.get(p.id);
    if (!r) continue;
    const key = r.address ?? p.host;
    byDest.set(key, [...(byDest.get(key) ?? []), p]);
  }
  await Promise.all(
    [...byDest.values()].map(async (specs) => {
      const rs = specs.map((s) => results.get(s.id)!);
      const refused = rs.filter((r) => r.status === 'refused').length;
      const silent = specs.filter((s) => results.get(s.id)!.status === 'open|filtered');
      if (refused === 0 || silent.length === 0) return;
      // Staggered, not sequential: recheck i starts i+1 intervals after the phase began, so the
      // phase lasts about (ports × interval + timeout) per destination, all destinations at once.
      await Promise.all(
        silent.map(async (spec, i) => {
          const prev = results.get(spec.id)!;
          const startAt = performance.now() + (i + 1) * interval;
          if (opts.stopSignal?.aborted || startAt > budgetEnd) {
            results.set(spec.id, {
              ...prev,
              reason: 'UDP_SILENCE_RATE_LIMITED',
              detail: `${prev.detail}; other ports of this host answered with ICMP, so ICMP rate limiting may have hidden a refusal here (not rechecked: budget spent)`,
            });
            return;
          }
          await new Promise((r) => setTimeout(r, startAt - performance.now()));
          if (opts.stopSignal?.aborted) return;
          const t0 = performance.now();
          const o = await runOne(spec, base, opts.hardSignal);
          const merged: ProbeResult = { ...prev, ...o, attempts: prev.attempts + 1, durationMs: Math.round((prev.durationMs + performance.now() - t0) * 10) / 10 };
          if (o.status === 'open|filtered') {
            merged.detail = `${o.detail}; rechecked alone after other ports answered with ICMP, to rule out ICMP rate limiting`;
          }
          results.set(spec.id, merged);
        }),
      );
    }),
  );
}
