/**
 * What a run does after its probes, to say where and why lines failed (issue 17): a trace of each
 * failed TCP/UDP destination, and a path-MTU test of connections that opened and then stalled.
 * Results are annotated in place (`data.trace`, `data.pmtu`, a stall's reason); the report reads
 * them (src/report/path.ts).
 */
import { isIP } from 'node:net';
import type { ProbeResult, ProbeSpec, ResolvedAddress, Status } from '../types.js';
import { traceProtocolOf } from '../probers/index.js';
import { isLoopbackAddress } from '../util/ip.js';
import { diagnoseStall, STALL_REASONS, type ReflectorTarget } from './pmtu.js';
import { traceRoute, type TraceOptions, type TraceResult } from './trace.js';

/** Silence or ICMP: what a trace can explain. A reset or a stalled exchange reached something. */
const TRACED: ReadonlySet<Status> = new Set(['filtered', 'unreachable', 'open|filtered']);

export interface PathPhaseOptions {
  /** Trace failed TCP/UDP destinations (on for catalog runs, off for sweeps: `--trace`/`--no-trace`). */
  trace?: boolean;
  /** Most traces in one run (one per line, protocol and port). */
  traceMax?: number;
  /** A netcheck reflector, for the path-MTU test of stalled connections. */
  reflector?: ReflectorTarget;
  /** The run's probe of an id (a stalled probe's options: scheme, path). */
  specOf?: (id: string) => ProbeSpec | undefined;
  /** The run's resolver (for a reflector given by name). */
  lookup?: (host: string) => Promise<ResolvedAddress[]>;
  /** Stop early (Ctrl-C): no new traces. */
  signal?: AbortSignal;
  /** One line for stderr when the phase starts, so a wait of a few seconds is explained. */
  onNotice?: (text: string) => void;
  /** Replaces {@link traceRoute} (tests of the grouping only). */
  tracer?: (o: TraceOptions) => Promise<TraceResult>;
}

const TRACE_MAX = 16;
/** Few at once: routers rate-limit the ICMP a trace depends on, per destination (this host). */
const TRACE_CONCURRENCY = 2;

/** Run the phase on a finished run's results (mutates them). */
export async function pathPhase(results: ProbeResult[], o: PathPhaseOptions): Promise<void> {
  const jobs: (() => Promise<void>)[] = [];
  if (o.trace) jobs.push(...traceJobs(results, o));
  const stalls = results.filter((r) => r.status === 'timeout' && STALL_REASONS.has(r.reason) && r.address && !isLoopbackAddress(r.address));
  for (const r of stalls) jobs.push(() => diagnoseStall(r, o.specOf?.(r.id), o.reflector, o.lookup, o.signal));
  if (!jobs.length || o.signal?.aborted) return;
  o.onNotice?.(`netcheck: looking for where ${jobs.length === 1 ? 'a failure happens' : `${jobs.length} failures happen`} (path trace${stalls.length ? ', path-MTU test' : ''})…\n`);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(TRACE_CONCURRENCY, jobs.length) }, async () => {
      while (next < jobs.length && !o.signal?.aborted) await jobs[next++]!();
    }),
  );
}

/** One trace per line, protocol and port: the first failed address stands for the rest. */
function traceJobs(results: ProbeResult[], o: PathPhaseOptions): (() => Promise<void>)[] {
  const groups = new Map<string, ProbeResult[]>();
  for (const r of results) {
    const protocol = traceProtocolOf(r.kind);
    if (!protocol || r.port === undefined) continue;
    const key = `${r.line}|${protocol}|${r.port}`;
    const rs = groups.get(key);
    if (rs) rs.push(r);
    else groups.set(key, [r]);
  }
  const picked: { r: ProbeResult; protocol: 'tcp' | 'udp'; address: string }[] = [];
  // Nothing got through at all (the run's NO_OUTBOUND_CONNECTIVITY): one trace shows where
  // everything stops; a trace per line would say the same thing many times, seconds later.
  const noneOk = !results.some((r) => r.status === 'ok' && traceProtocolOf(r.kind));
  const max = noneOk ? 1 : (o.traceMax ?? TRACE_MAX);
  for (const [key, rs] of groups) {
    // Another address of the same line and port got through: nothing on the way blocks the port.
    if (rs.some((r) => r.status === 'ok')) continue;
    // No route on this host (ENETUNREACH): there is no path to trace. Media that got echoes back
    // failed on quality (loss, jitter), not on reachability: nothing to locate with a trace.
    const r = rs.find((x) => TRACED.has(x.status) && x.reason !== 'ENETUNREACH' && !(x.kind === 'media' && Number(x.data?.received) > 0) && targetAddress(x) !== undefined);
    if (!r) continue;
    if (picked.length >= max) break;
    picked.push({ r, protocol: key.split('|')[1] as 'tcp' | 'udp', address: targetAddress(r)! });
  }
  // Routers rate-limit ICMP per destination (Linux: a burst of 6, then one a second), and a trace
  // towards a rejecting firewall spends it on every hop past the firewall: those go last, with
  // two probes in flight, so they cannot silence the first hop for the traces of dropped lines.
  picked.sort((a, b) => Number(a.r.status === 'unreachable') - Number(b.r.status === 'unreachable'));
  return picked.map(({ r, protocol, address }) => async () => {
    const run = (): Promise<TraceResult> =>
      (o.tracer ?? traceRoute)({ address, protocol, port: r.port!, ...(r.status === 'unreachable' ? { inFlight: 2 } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    let trace = await run();
    // Not even the first hop answered: possibly its ICMP budget spent by the traces before; once more, a second later.
    if (trace.traced && !trace.reached && !trace.lastHop && !o.signal?.aborted) {
      await new Promise((res) => setTimeout(res, RETRY_AFTER_MS));
      const again = await run();
      if (again.reached || again.lastHop) trace = again;
    }
    r.data = { ...r.data, trace };
  });
}

/** Linux refills one ICMP token per second (net.ipv4.icmp_ratelimit). */
const RETRY_AFTER_MS = 1000;

/** The address to trace: the one probed; never loopback (no path to find there). */
function targetAddress(r: ProbeResult): string | undefined {
  const a = r.address ?? (isIP(r.host) ? r.host : undefined);
  if (!a || isLoopbackAddress(a)) return undefined;
  return a;
}
