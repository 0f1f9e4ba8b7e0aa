/**
 * The engine: runs probes concurrently under a global and a per-destination limit, gives each
 * probe its deadline as an AbortSignal, retries only transient or ambiguous outcomes, and stops
 * scheduling on interruption while letting in-flight probes settle.
 */
import { lookup as dnsLookup, Resolver } from 'node:dns/promises';
import { getEventListeners } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULTS } from '../constants.js';
import { FD_REASONS, RETRYABLE_REASONS } from '../reasons.js';
import { loadProbers, PROBERS } from '../probers/index.js';
import { AdaptiveDeadlines, describeAdaptive, type AdaptiveInfo } from './rtt.js';
import { capHeapGrowth } from './heap.js';
import { bugStack, quietStacks, STACK_TRACES_ENV } from './stacks.js';
import type { FdShortage, ProbeContext, ProbeOutcome, ProbeProgress, ProbeResult, ProbeSpec, ResolvedAddress } from '../types.js';
import { because } from '../reasons.js';

export type { FdShortage } from '../types.js';

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
  /** Set when this host ran out of file descriptors during the run (see {@link FdShortage}). */
  fdShortage?: FdShortage;
}


/**
 * A resolver shared by a run: each name is resolved once, whatever the number of probes.
 * `cancel()` ends the queries still pending (probes give up on them at their deadline), so a DNS
 * server that never answers does not keep the process alive for its retries after the report.
 */
export function makeLookup(dnsServers?: string[]): ((host: string) => Promise<ResolvedAddress[]>) & { cancel(): void } {
  const cache = new Map<string, Promise<ResolvedAddress[]>>();
  let resolver: Resolver | undefined;
  if (dnsServers?.length) {
    resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers(dnsServers);
  }
  const lookup = (host: string): Promise<ResolvedAddress[]> => {
    let p = cache.get(host);
    if (!p) {
      p = resolver ? resolveWith(resolver, host) : dnsLookup(host, { all: true, verbatim: true }).then((all) => all.map((a) => ({ address: a.address, family: a.family as 4 | 6 })));
      cache.set(host, p);
      // Out of file descriptors is this host's state, not the name's: a later attempt resolves again.
      p.catch((err: NodeJS.ErrnoException) => {
        if (FD_REASONS.has(String(err?.code))) cache.delete(host);
      });
    }
    return p;
  };
  return Object.assign(lookup, { cancel: () => resolver?.cancel() });
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
  // Imported before the deadline starts: module loading is not the network's time.
  if (!PROBERS[spec.kind]) await loadProbers([spec.kind]);
  const prober = PROBERS[spec.kind];
  if (!prober) return unknownKind(spec);
  // One controller and a plain timer held by this frame, not AbortSignal.any([AbortSignal.timeout()]):
  // on Node 20 the timeout signal inside a composite can be garbage-collected before it fires
  // (nodejs/node#57736). In a 4,096-target sweep through a dropping firewall that left probes
  // waiting ~130 s for the kernel's own SYN timeout instead of their 3 s deadline.
  const ac = new AbortController();
  let watchdog: NodeJS.Timeout | undefined;
  let bail: ((o: ProbeOutcome & { internal?: boolean }) => void) | undefined;
  let settled = false;
  const expire = (): void => {
    if (settled) return;
    ac.abort();
    watchdog ??= setTimeout(() => bail?.(overran(spec)), graceMs(spec));
  };
  // The deadline expires after the next poll phase ({@link afterPoll}): an answer that reached
  // this host while it was busy counts first.
  const timer = setTimeout(afterPoll, spec.timeoutMs, expire);
  let onHard: (() => void) | undefined;
  if (hardSignal?.aborted) expire();
  else if (hardSignal) hardSignal.addEventListener('abort', (onHard = expire), { once: true });
  try {
    return await new Promise<ProbeOutcome & { internal?: boolean }>((resolve) => {
      bail = resolve;
      try {
        prober(spec, probeContext(base, ac.signal, spec.timeoutMs)).then(resolve, (err: unknown) => resolve(internalError(spec, err)));
      } catch (err) {
        // A prober that throws before returning its promise has a bug too.
        resolve(internalError(spec, err));
      }
    });
  } finally {
    settled = true;
    clearTimeout(timer);
    clearTimeout(watchdog);
    if (onHard) hardSignal?.removeEventListener('abort', onHard);
  }
}

/**
 * How long a prober may take past its deadline (or a second Ctrl-C) before the engine stops
 * waiting for it. Probers end within milliseconds of an abort; one that does not has a bug, and
 * must not keep a run (and its measured results) from ending.
 */
function graceMs(spec: ProbeSpec): number {
  return Math.min(60_000, 2000 + spec.timeoutMs);
}

function overran(spec: ProbeSpec): ProbeOutcome & { internal: true } {
  return {
    ...because('PROBE_OVERRAN'),
    detail: `netcheck bug: the ${spec.kind} prober did not end within ${graceMs(spec)}ms after its ${spec.timeoutMs}ms deadline`,
    internal: true,
  };
}

function unknownKind(spec: ProbeSpec): ProbeOutcome & { internal: true } {
  return { ...because('UNKNOWN_KIND'), detail: `no prober for kind '${spec.kind}'`, internal: true };
}

/**
 * A prober that throws has a bug: say so, as an outcome, rather than crash the run. The stack goes
 * in `data.stack`; when stack traces were off for the sweep (src/engine/stacks.ts) the detail says
 * how to get it.
 */
function internalError(spec: ProbeSpec, err: unknown): ProbeOutcome & { internal: true } {
  const stack = bugStack(err);
  const detail = `netcheck bug in the ${spec.kind} prober: ${(err as Error)?.message ?? String(err)}`;
  return stack
    ? { ...because('INTERNAL'), detail, data: { stack }, internal: true }
    : { ...because('INTERNAL'), detail: `${detail} (no stack trace: set ${STACK_TRACES_ENV}=1 to capture one)`, internal: true };
}

/**
 * A probe's deadline fell due: expire it, but only after the event loop's next poll phase. When
 * this process was busy or starved of CPU past the deadline, the timer and the network's answer
 * (a completed handshake, a reply) are due in the same loop iteration, and timers run first; the
 * answer is already here and must count, or a late timer on this host reads as silence on the
 * network (seen under load: connects to a listening loopback port judged SYN_TIMEOUT). Waiting one
 * poll costs nothing when the network really was silent.
 */
function afterPoll(expire: () => void): void {
  setImmediate(expire);
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
  /** Ends the current attempt with an outcome of the engine's own (see {@link graceMs}). */
  private bail: ((o: ProbeOutcome & { internal?: boolean }) => void) | undefined;
  private spec: ProbeSpec | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogMs = -1;

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
   * abort waits for the next poll phase, so answers already received count first ({@link afterPoll}).
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

  /** The deadline timer fired: expire after the next poll phase ({@link afterPoll}), unless re-armed since. */
  private due(): void {
    const generation = this.generation;
    setImmediate(() => {
      if (generation === this.generation) this.expire();
    });
  }

  /**
   * Await one attempt of `spec`. A prober that has not returned {@link graceMs} after its deadline
   * (or a second Ctrl-C) is left behind with an internal outcome: a bug must not hang the run.
   */
  run(spec: ProbeSpec, attempt: Promise<ProbeOutcome>): Promise<ProbeOutcome & { internal?: boolean }> {
    this.spec = spec;
    return new Promise((resolve) => {
      this.bail = resolve;
      attempt.then(resolve, (err: unknown) => resolve(internalError(spec, err)));
    });
  }

  /** The deadline passed, or the user cancelled probes in flight: abort, and start the watchdog. */
  expire(): void {
    const ac = this.armed;
    if (!ac) return;
    ac.abort();
    const spec = this.spec;
    if (!spec || !this.bail) return;
    const ms = graceMs(spec);
    if (this.watchdog && this.watchdogMs === ms) this.watchdog.refresh();
    else {
      if (this.watchdog) clearTimeout(this.watchdog);
      this.watchdog = setTimeout(() => {
        if (this.armed === ac && this.spec) this.bail?.(overran(this.spec));
      }, ms);
      this.watchdogMs = ms;
    }
  }

  /** The attempt settled: a later firing of the timers aborts nothing. */
  disarm(): void {
    this.armed = undefined;
    this.bail = undefined;
    this.spec = undefined;
  }

  /** The worker is done: the timers must not hold the process open. */
  close(): void {
    this.disarm();
    if (this.timer) clearTimeout(this.timer);
    if (this.watchdog) clearTimeout(this.watchdog);
    this.timer = undefined;
    this.watchdog = undefined;
  }
}

/** Run every probe of a plan. Skipped probes (with a reason) are reported without being sent. */
export async function runProbes(probes: ProbeSpec[], skipped: Map<string, string>, opts: EngineOptions = {}): Promise<EngineResult> {
  // A sweep keeps every result: collect garbage before the heap grows to several times that (heap.ts).
  capHeapGrowth(probes.length);
  // No stack traces for the errors the network produces while probes are in flight (stacks.ts).
  const loudStacks = quietStacks();
  try {
    return await sweep(probes, skipped, opts);
  } finally {
    loudStacks();
  }
}

async function sweep(probes: ProbeSpec[], skipped: Map<string, string>, opts: EngineOptions): Promise<EngineResult> {
  const concurrency = opts.concurrency ?? DEFAULTS.concurrency;
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, not ${concurrency}`);
  const perHost = hostLimiters(probes, opts.perHostConcurrency ?? DEFAULTS.perHostConcurrency);
  const lookup = makeLookup(opts.dnsServers);
  const base: Omit<ProbeContext, 'signal' | 'timeoutMs'> = {
    lookup,
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
  // The run's probers, with their libraries, before the first deadline starts.
  await loadProbers(probes.map((p) => p.kind));
  const adaptive = new AdaptiveDeadlines(opts.adaptiveDeadlines === false ? [] : probes);
  // Each worker reuses one controller and one timer (Slot). A second Ctrl-C aborts every
  // worker's current controller.
  const slots: Slot[] = [];
  const onHard = (): void => {
    for (const slot of slots) slot.expire();
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

  const fd = new FdThrottle(concurrency);
  /** Probes being sent right now (between the start and the end of execute). */
  let inFlight = 0;

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
    let outcome: ProbeOutcome & { internal?: boolean; local?: boolean };
    let cuts: AdaptiveInfo[] | undefined;
    let fdRetries = 0;
    inFlight++;
    for (;;) {
      attempts++;
      // The worker's controller, aborted at the deadline, by the run's single hardSignal listener
      // or by an adaptive deadline: one listener per probe on hardSignal made 4,096 probes
      // quadratic (EventTarget scans its listeners on every add). What runOne does, inlined.
      const ac = slot.controller();
      if (opts.hardSignal?.aborted) ac.abort();
      const attempt = adaptive.begin(spec, ac);
      const generation = fd.generation;
      slot.arm(spec.timeoutMs);
      try {
        outcome = await slot.run(spec, prober(spec, probeContext(base, ac.signal, spec.timeoutMs)));
      } catch (err) {
        outcome = internalError(spec, err);
      } finally {
        slot.disarm();
      }
      const cut = attempt.end(outcome);
      if (FD_REASONS.has(outcome.reason)) {
        // This host ran out of file descriptors: fewer probes in flight, then the same probe again.
        if (fdRetries < fd.retryLimit() && !opts.stopSignal?.aborted) {
          fdRetries++;
          fd.lower(inFlight, generation);
          inFlight--;
          await fd.wait(fdRetries, () => inFlight);
          inFlight++;
          continue;
        }
        outcome = fd.gaveUp(outcome);
        break;
      }
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
      outcome = { ...because('INTERRUPTED'), detail: 'interrupted before the probe finished' };
    }
    inFlight--;
    record(toResult(spec, outcome, startedAtOf(t0), performance.now() - t0, attempts));
  };

  // Scheduling: `concurrency` workers take the next probe in plan order, so a sweep of thousands
  // of targets allocates per worker, not per queued probe. A destination with more probes than
  // its limit is held to it by its own p-limit (the worker waits, as a queued probe would).
  const runnable: ProbeSpec[] = [];
  for (const spec of probes) {
    const why = skipped.get(spec.id);
    if (why) record(toResult(spec, { ...because('NOT_APPLICABLE'), detail: why }, startedAtOf(performance.now()), 0, 0));
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
  let live = 0;
  const worker = async (): Promise<void> => {
    const slot = new Slot();
    slots.push(slot);
    live++;
    try {
      while (next < runnable.length && !opts.stopSignal?.aborted) {
        // Out of file descriptors: workers above the lowered limit stop taking probes.
        if (live > fd.cap) break;
        const spec = runnable[next++]!;
        const limit = perHost.get(spec.host);
        await (limit ? limit(() => start(spec, slot)) : start(spec, slot));
      }
      if (next < runnable.length && opts.stopSignal?.aborted) interrupted = true;
    } finally {
      live--;
      slot.close();
    }
  };
  // Start narrow and widen while the event loop has idle time: a catalog whose probes wait on the
  // network (silent UDP, dropped SYNs) reaches the full `concurrency` within a few intervals; a
  // loopback sweep that keeps this host's CPU busy stays narrow, where it is fastest.
  const workers: Promise<void>[] = [];
  const widen = (to: number): void => {
    const limit = Math.min(to, concurrency, fd.cap, runnable.length);
    while (live < limit && next < runnable.length && !opts.stopSignal?.aborted) {
      const taken = next;
      workers.push(worker());
      // A worker that took nothing ended at once (stopped): adding more would loop forever.
      if (next === taken) break;
    }
  };
  widen(opts.initialConcurrency ?? DEFAULTS.initialConcurrency);
  let widener: NodeJS.Timeout | undefined;
  if (workers.length < Math.min(concurrency, runnable.length)) {
    let elu = performance.eventLoopUtilization();
    widener = setInterval(() => {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
      if (next >= runnable.length || live >= concurrency) {
        clearInterval(widener);
        return;
      }
      if (busy < DEFAULTS.widenBelowUtilisation) widen(live * 2);
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
  lookup.cancel();

  // Keep plan order; probes never started (interrupted) are absent, not invented.
  const ordered = probes.map((p) => results.get(p.id)).filter((r): r is ProbeResult => r !== undefined);
  return { results: ordered, interrupted, ...(fd.shortage ? { fdShortage: fd.shortage } : {}) };
}

/**
 * A limiter per destination that has more probes than its limit; one with no more can never be
 * held back and gets none (in a sweep of 4,096 addresses that saves 4,096 limiters and their
 * queues). A function of its own so the count of 65,534 destinations is not kept alive by the
 * suspended frame of the run for its whole length.
 */
function hostLimiters(probes: ProbeSpec[], perHostMax: number): Map<string, LimitFunction> {
  const perHost = new Map<string, LimitFunction>();
  const perHostCount = new Map<string, number>();
  for (const p of probes) perHostCount.set(p.host, (perHostCount.get(p.host) ?? 0) + 1);
  for (const [h, n] of perHostCount) if (n > perHostMax) perHost.set(h, pLimit(perHostMax));
  return perHost;
}

/**
 * What the engine does when this host runs out of file descriptors (EMFILE, ENFILE): a sweep at
 * `--concurrency 512` under `ulimit -n 256` would otherwise report most of its probes as errors,
 * and a network that works as "no outbound connectivity". Each shortage halves the probes allowed
 * in flight (from those in flight when it was seen) and the probe is re-sent once others have
 * ended; a probe that still gets it with nothing else in flight is given up as a `local` result.
 */
class FdThrottle {
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

function toResult(spec: ProbeSpec, o: ProbeOutcome & { internal?: boolean; local?: boolean }, startedAt: string, durationMs: number, attempts: number): ProbeResult {
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
  if (o.local) r.local = true;
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
    // Push, not copy: a UDP sweep of one host's 65,535 ports is one destination.
    const list = byDest.get(key);
    if (list) list.push(p);
    else byDest.set(key, [p]);
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
