/**
 * One full check of a plan: the interception control probe alongside the engine run, then the
 * Report. Shared by `netcheck <catalog>`, `netcheck run` and `netcheck demo`.
 */
import type { Plan } from '../catalog/expand.js';
import { DEFAULTS } from '../constants.js';
import { buildReport } from '../report/build.js';
import { collectEnvironment, egressFromResults } from '../report/environment.js';
import type { ProbeResult, ProbeSpec, Report } from '../types.js';
import { version } from '../version.js';
import { makeLookup, runOne, runProbes, type EngineOptions } from './run.js';

export interface CheckOptions extends EngineOptions {
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

export async function runCheck(plan: Plan, opts: CheckOptions): Promise<Report> {
  const startedAt = new Date();
  const control = opts.control === false ? undefined : splitHostPort(opts.control ?? DEFAULTS.controlTarget);
  const controlPromise: Promise<ProbeResult | undefined> = control
    ? (async () => {
        const spec: ProbeSpec = {
          id: 'control',
          line: 'control',
          kind: 'tcp',
          host: control.host,
          port: control.port,
          options: {},
          timeoutMs: opts.controlTimeoutMs ?? Math.min(plan.probes[0]?.timeoutMs ?? DEFAULTS.timeoutMs, DEFAULTS.timeoutMs),
        };
        const t0 = performance.now();
        const lookup = makeLookup(opts.dnsServers);
        const o = await runOne(spec, { lookup }, opts.hardSignal);
        lookup.cancel();
        return { ...o, id: spec.id, line: spec.line, kind: spec.kind, host: spec.host, port: spec.port, startedAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - t0), attempts: 1 };
      })()
    : Promise.resolve(undefined);
  const [{ results, interrupted, fdShortage }, controlResult] = await Promise.all([runProbes(plan.probes, plan.skipped, opts), controlPromise]);
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
  // Every report says where it was measured (issue 6); collected here so renderers stay pure.
  const egress = egressFromResults(results);
  report.environment = collectEnvironment({ ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}), ...(egress ? { egress } : {}) });
  return report;
}
