/**
 * The engine: runs probes concurrently under a global and a per-destination limit, and stops
 * scheduling on interruption while letting in-flight probes settle. This file schedules; each
 * probe is sent (retried only after transient or ambiguous outcomes) by send.ts, each attempt
 * gets its deadline as an AbortSignal from attempt.ts.
 */
import { lookup as dnsLookup, Resolver } from 'node:dns/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULTS } from '../constants.js';
import { loadProbers, PROBERS } from '../probers/index.js';
import { AdaptiveDeadlines } from './rtt.js';
import { runOne, Slot, unknownKind } from './attempt.js';
import { FdThrottle } from './fd-throttle.js';
import { ProbeSender } from './send.js';
import { capHeapGrowth } from './heap.js';
import { quietStacks } from './stacks.js';
import type { FdShortage, ProbeContext, ProbeOutcome, ProbeProgress, ProbeResult, ProbeSpec, Prober, ResolvedAddress } from '../types.js';
import { because, FD_REASONS } from '../reasons.js';

export type { FdShortage } from '../types.js';
export { runOne } from './attempt.js';

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
  const base: Omit<ProbeContext, 'signal' | 'timeoutMs' | 'onDeadline'> = {
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
  // The run's probers, with their libraries, before the first deadline starts. runCheck has
  // imported them before its clock started: then this is one pass over the probes, and no await.
  if (probes.some((p) => !PROBERS[p.kind])) await loadProbers(probes.map((p) => p.kind));
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
  const sender = new ProbeSender({ base, retries, adaptive, fd, ...(opts.stopSignal ? { stopSignal: opts.stopSignal } : {}), ...(opts.hardSignal ? { hardSignal: opts.hardSignal } : {}) });

  const record = (r: ProbeResult): void => {
    results.set(r.id, r);
    done++;
    opts.onResult?.(r, done, total);
  };

  /**
   * The prober for `spec`, or undefined when the run was stopped (also after waiting for its
   * destination's limit) or its kind is unknown (recorded as such).
   */
  const admit = (spec: ProbeSpec): Prober | undefined => {
    if (opts.stopSignal?.aborted) {
      interrupted = true;
      return undefined;
    }
    opts.onStart?.(spec);
    const prober = PROBERS[spec.kind];
    if (!prober) record(toResult(spec, unknownKind(spec), startedAtOf(performance.now()), 0, 0));
    return prober;
  };
  /** Send `spec` and record its result: for a destination held to its limit (the common path is inlined in worker()). */
  const execute = async (spec: ProbeSpec, slot: Slot): Promise<void> => {
    const prober = admit(spec);
    if (!prober) return;
    const t0 = performance.now();
    const { outcome, attempts } = await sender.send(spec, prober, slot);
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
        const limit = perHost.size === 0 ? undefined : perHost.get(spec.host);
        if (limit) {
          await limit(() => execute(spec, slot));
          continue;
        }
        // execute(), inline: one async frame and one promise fewer per probe of a sweep.
        const prober = admit(spec);
        if (!prober) continue;
        const t0 = performance.now();
        const { outcome, attempts } = await sender.send(spec, prober, slot);
        record(toResult(spec, outcome, startedAtOf(t0), performance.now() - t0, attempts));
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
  // No destination can have more probes than the run has.
  if (probes.length <= perHostMax) return perHost;
  const perHostCount = new Map<string, number>();
  for (const p of probes) perHostCount.set(p.host, (perHostCount.get(p.host) ?? 0) + 1);
  for (const [h, n] of perHostCount) if (n > perHostMax) perHost.set(h, pLimit(perHostMax));
  return perHost;
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
  base: Omit<ProbeContext, 'signal' | 'timeoutMs' | 'onDeadline'>,
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
