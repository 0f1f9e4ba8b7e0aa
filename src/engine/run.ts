/**
 * The engine: runs probes concurrently under a global and a per-destination limit, gives each
 * probe its deadline as an AbortSignal, retries only transient or ambiguous outcomes, and stops
 * scheduling on interruption while letting in-flight probes settle.
 */
import { lookup as dnsLookup, Resolver } from 'node:dns/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULTS, RETRYABLE_REASONS } from '../constants.js';
import { PROBERS } from '../probers/index.js';
import { AdaptiveDeadlines, describeAdaptive, type AdaptiveInfo } from './rtt.js';
import type { ProbeContext, ProbeOutcome, ProbeProgress, ProbeResult, ProbeSpec, ResolvedAddress } from '../types.js';

export interface EngineOptions {
  concurrency?: number;
  perHostConcurrency?: number;
  /** Explicit DNS servers (`host[:port]`); absent means the system resolver. */
  dnsServers?: string[];
  family?: 4 | 6;
  /** HTTP proxies for the kinds that can use one (src/util/proxy.ts); absent means direct. */
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

/** Run one probe with its deadline; bugs become an `error` outcome marked internal. */
export async function runOne(
  spec: ProbeSpec,
  base: Omit<ProbeContext, 'signal' | 'timeoutMs'>,
  hardSignal?: AbortSignal,
  /**
   * The engine's own controller for this attempt (aborted on interruption or by an adaptive
   * deadline, src/engine/rtt.ts); reusing it saves a controller and a listener per probe.
   */
  controller?: AbortController,
): Promise<ProbeOutcome & { internal?: boolean }> {
  const prober = PROBERS[spec.kind];
  if (!prober) return { status: 'error', reason: 'UNKNOWN_KIND', detail: `no prober for kind '${spec.kind}'`, internal: true };
  // One controller and a plain timer held by this frame, not AbortSignal.any([AbortSignal.timeout()]):
  // on Node 20 the timeout signal inside a composite can be garbage-collected before it fires
  // (nodejs/node#57736). In a 4,096-target sweep through a dropping firewall that left probes
  // waiting ~130 s for the kernel's own SYN timeout instead of their 3 s deadline.
  const ac = controller ?? new AbortController();
  const abort = (): void => ac.abort();
  const timer = setTimeout(abort, spec.timeoutMs);
  if (hardSignal?.aborted) abort();
  else hardSignal?.addEventListener('abort', abort, { once: true });
  try {
    return await prober(spec, { ...base, signal: ac.signal, timeoutMs: spec.timeoutMs });
  } catch (err) {
    return { status: 'error', reason: 'INTERNAL', detail: `netcheck bug in the ${spec.kind} prober: ${(err as Error).message}`, internal: true };
  } finally {
    clearTimeout(timer);
    hardSignal?.removeEventListener('abort', abort);
  }
}

/** Run every probe of a plan. Skipped probes (with a reason) are reported without being sent. */
export async function runProbes(probes: ProbeSpec[], skipped: Map<string, string>, opts: EngineOptions = {}): Promise<EngineResult> {
  const global = pLimit(opts.concurrency ?? DEFAULTS.concurrency);
  const perHost = new Map<string, LimitFunction>();
  const perHostMax = opts.perHostConcurrency ?? DEFAULTS.perHostConcurrency;
  // A destination with no more probes than its limit can never be held back: skip its limiter.
  // In a sweep of 4,096 addresses that saves 4,096 limiters and their queues.
  const perHostCount = new Map<string, number>();
  for (const p of probes) perHostCount.set(p.host, (perHostCount.get(p.host) ?? 0) + 1);
  const unlimited = (fn: () => Promise<void>): Promise<void> => fn();
  const hostLimit = (h: string): ((fn: () => Promise<void>) => Promise<void>) => {
    if ((perHostCount.get(h) ?? 0) <= perHostMax) return unlimited;
    let l = perHost.get(h);
    if (!l) perHost.set(h, (l = pLimit(perHostMax)));
    return l;
  };
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
  const inflight = new Set<AbortController>();
  const onHard = (): void => {
    for (const ac of inflight) ac.abort();
  };
  opts.hardSignal?.addEventListener('abort', onHard, { once: true });
  const results = new Map<string, ProbeResult>();
  let done = 0;
  const total = probes.length;
  let interrupted = false;

  const record = (r: ProbeResult): void => {
    results.set(r.id, r);
    done++;
    opts.onResult?.(r, done, total);
  };

  const execute = async (spec: ProbeSpec): Promise<void> => {
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    let attempts = 0;
    let outcome: ProbeOutcome & { internal?: boolean };
    const cuts: AdaptiveInfo[] = [];
    for (;;) {
      attempts++;
      // One controller per attempt, aborted by the run's single hardSignal listener or by an
      // adaptive deadline: one listener per probe on hardSignal made 4,096 probes quadratic
      // (EventTarget scans its listeners on every add).
      const ac = new AbortController();
      inflight.add(ac);
      if (opts.hardSignal?.aborted) ac.abort();
      const attempt = adaptive.begin(spec, ac);
      outcome = await runOne(spec, base, undefined, ac);
      inflight.delete(ac);
      const cut = attempt.end(outcome);
      if (cut) {
        cuts.push(cut);
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
    record(toResult(spec, outcome, startedAt, performance.now() - t0, attempts));
  };

  const tasks = probes.map((spec) => {
    const why = skipped.get(spec.id);
    if (why) {
      record(toResult(spec, { status: 'skipped', reason: 'NOT_APPLICABLE', detail: why }, new Date().toISOString(), 0, 0));
      return Promise.resolve();
    }
    return global(() =>
      hostLimit(spec.host)(async () => {
        if (opts.stopSignal?.aborted) {
          interrupted = true;
          return;
        }
        opts.onStart?.(spec);
        await execute(spec);
      }),
    );
  });
  await Promise.all(tasks);

  opts.hardSignal?.removeEventListener('abort', onHard);
  if (!opts.stopSignal?.aborted) await udpRecheck(probes, results, base, opts);
  if (opts.stopSignal?.aborted) interrupted = true;

  // Keep plan order; probes never started (interrupted) are absent, not invented.
  const ordered = probes.map((p) => results.get(p.id)).filter((r): r is ProbeResult => r !== undefined);
  return { results: ordered, interrupted };
}

function toResult(spec: ProbeSpec, o: ProbeOutcome & { internal?: boolean }, startedAt: string, durationMs: number, attempts: number): ProbeResult {
  return {
    id: spec.id,
    line: spec.line,
    kind: spec.kind,
    host: spec.host,
    ...(spec.port !== undefined ? { port: spec.port } : {}),
    ...(spec.sampledFrom ? { sampledFrom: spec.sampledFrom } : {}),
    startedAt,
    durationMs: Math.round(durationMs * 10) / 10,
    attempts,
    ...o,
  };
}

/**
 * Linux (and most firewalls) rate-limit ICMP: a burst of about 6, then one per second per
 * destination (../shared/LAB.md). A sweep that sees some ports refused and others silent on the
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
