/**
 * How a run uses this folder (issue 17): run-level findings (captive portal, DNS interception)
 * start beside the probes, like the interception control; traces of failed lines and the
 * path-MTU test of stalled connections run after them. Kept here so the engine only calls two
 * functions.
 */
import type { Plan } from '../catalog/expand.js';
import type { ProbeResult, ProbeSpec, ResolvedAddress } from '../types.js';
import { markIntercepted, runLevelFindings, type Expectation, type Findings } from './findings.js';
import { pathPhase } from './phase.js';
import type { ReflectorTarget } from './pmtu.js';

export type { ReflectorTarget } from './pmtu.js';
export type { Expectation } from './findings.js';

/** The run options of this folder (CLI: `--trace`, `--portal-url`, `--dns-check`, `--reflector`). */
export interface PathCheckOptions {
  /** Trace the path of failed TCP/UDP lines (on for catalog runs, off for sweeps). */
  trace?: boolean;
  /** A netcheck reflector: known answer for the portal check, far end of the path-MTU test. */
  reflector?: ReflectorTarget;
  /** A known-answer URL for the captive-portal check. */
  portal?: { url: string; expect?: Expectation };
  /** Ask the resolver for names that cannot exist. */
  dnsCheck?: boolean;
  /** A line on stderr when a phase makes the run wait (not in quiet runs). */
  onNotice?: (text: string) => void;
}

interface Context {
  lookup: (host: string) => Promise<ResolvedAddress[]>;
  dnsServers?: string[];
  timeoutMs: number;
  stopSignal?: AbortSignal;
}

/** Start the run-level checks that are enabled (undefined when none is). */
export function startFindings(o: PathCheckOptions, ctx: Context): Promise<Findings> | undefined {
  if (!o.portal && !o.reflector?.tcpPort && !o.dnsCheck) return undefined;
  return runLevelFindings({
    ...(o.portal ? { portal: o.portal } : {}),
    ...(o.reflector ? { reflector: o.reflector } : {}),
    ...(o.dnsCheck ? { dnsCheck: true } : {}),
    lookup: ctx.lookup,
    ...(ctx.dnsServers ? { dnsServers: ctx.dnsServers } : {}),
    timeoutMs: ctx.timeoutMs,
    ...(ctx.stopSignal ? { signal: ctx.stopSignal } : {}),
  });
}

/** After the probes: re-read them against a DNS interception, trace failures, test stalls. */
export async function afterProbes(plan: Plan, results: ProbeResult[], interrupted: boolean, findings: Findings | undefined, o: PathCheckOptions, ctx: Context): Promise<void> {
  if (findings?.dns) markIntercepted(results, findings.dns);
  if (interrupted || ctx.stopSignal?.aborted) return;
  let specs: Map<string, ProbeSpec> | undefined;
  await pathPhase(results, {
    ...(o.trace ? { trace: true } : {}),
    ...(o.reflector ? { reflector: o.reflector } : {}),
    // Built only when a stalled probe needs its spec: a sweep of 65,534 probes has none.
    specOf: (id) => (specs ??= new Map(plan.probes.map((p) => [p.id, p]))).get(id),
    lookup: ctx.lookup,
    ...(ctx.stopSignal ? { signal: ctx.stopSignal } : {}),
    ...(o.onNotice ? { onNotice: o.onNotice } : {}),
  });
}
