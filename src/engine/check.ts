/**
 * One full check of a plan: the interception control probe alongside the engine run, then the
 * Report. Shared by `netcheck <catalog>`, `netcheck run` and `netcheck demo`.
 */
import type { Plan } from '../catalog/expand.js';
import { DEFAULTS } from '../constants.js';
import { afterProbes, startFindings, type PathCheckOptions } from '../path/index.js';
import { buildReport } from '../report/build.js';
import { collectEnvironment, egressFromResults } from '../report/environment.js';
import type { ProbeResult, ProbeSpec, Report } from '../types.js';
import { version } from '../version.js';
import { loadProbers } from '../probers/index.js';
import { makeLookup, runOne, runProbes, type EngineOptions } from './run.js';

export interface CheckOptions extends EngineOptions, PathCheckOptions {
  /** HOST:PORT that must never answer; false disables the control. */
  control?: string | false;
  controlTimeoutMs?: number;
}

/** Parse HOST:PORT / [v6]:PORT. */
export function splitHostPort(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`not HOST:PORT: ${s}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * The interception control probe of a run (a HOST:PORT that must never answer), or undefined with
 * `--no-control`. `netcheck plan` lists exactly this spec, so a plan shows every packet a run sends.
 */
export function controlSpec(plan: Plan, opts: Pick<CheckOptions, 'control' | 'controlTimeoutMs'>): ProbeSpec | undefined {
  if (opts.control === false) return undefined;
  const control = splitHostPort(opts.control ?? DEFAULTS.controlTarget);
  return {
    id: 'control',
    line: 'control',
    kind: 'tcp',
    host: control.host,
    port: control.port,
    options: {},
    timeoutMs: opts.controlTimeoutMs ?? Math.min(plan.probes[0]?.timeoutMs ?? DEFAULTS.timeoutMs, DEFAULTS.timeoutMs),
  };
}

export async function runCheck(plan: Plan, opts: CheckOptions): Promise<Report> {
  const spec = controlSpec(plan, opts);
  // The probers of the run, with their libraries, are imported before its clock starts: the
  // report's duration is the network check's (loading them took 20-30 ms of a 4,094-target sweep).
  await loadProbers([...plan.probes.map((p) => p.kind), ...(spec ? [spec.kind] : [])]);
  const startedAt = new Date();
  const controlPromise: Promise<ProbeResult | undefined> = spec
    ? (async () => {
        const t0 = performance.now();
        const lookup = makeLookup(opts.dnsServers);
        const o = await runOne(spec, { lookup }, opts.hardSignal);
        lookup.cancel();
        return { ...o, id: spec.id, line: spec.line, kind: spec.kind, host: spec.host, port: spec.port, startedAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - t0), attempts: 1 };
      })()
    : Promise.resolve(undefined);
  // Captive portal and DNS interception (issue 17) are checked beside the probes, like the control.
  const pathLookup = makeLookup(opts.dnsServers);
  const pathCtx = { lookup: pathLookup, ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}), timeoutMs: opts.controlTimeoutMs ?? DEFAULTS.timeoutMs, ...(opts.stopSignal ? { stopSignal: opts.stopSignal } : {}) };
  const findingsPromise = startFindings(opts, pathCtx);
  const [{ results, interrupted, fdShortage }, controlResult, findings] = await Promise.all([runProbes(plan.probes, plan.skipped, opts), controlPromise, findingsPromise]);
  // Where failures happen: traces of failed lines, path-MTU test of stalls.
  await afterProbes(plan, results, interrupted, findings, opts, pathCtx);
  // Queries still pending (a resolver that never answers) must not hold the process open (issue 11).
  pathLookup.cancel();
  const report = buildReport({
    plan,
    results,
    startedAt,
    finishedAt: new Date(),
    interrupted,
    version: version(),
    ...(controlResult ? { control: controlResult } : {}),
    catalogFile: plan.file,
    ...(fdShortage ? { fdShortage } : {}),
  });
  if (findings) report.diagnoses.push(...findings.diagnoses);
  // Every report says where it was measured (issue 6); collected here so renderers stay pure.
  const egress = egressFromResults(results);
  report.environment = collectEnvironment({ ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}), ...(egress ? { egress } : {}) });
  return report;
}
