/**
 * The Report's `timers`: each document timer with what its idle-timer probe measured (bracket,
 * verdict, flows), or `checked: false` when the run did not measure it. Pure.
 */
import type { TimerDef } from '../catalog/schema.js';
import { timerLineId } from '../catalog/timers.js';
import type { IdleCheckData, ProbeResult, TimerResult, Verdict } from '../types.js';
import { hostPort } from '../util/ip.js';

/** One entry per catalog timer. */
export function timerResults(timers: TimerDef[], results: ProbeResult[], interrupted: boolean): TimerResult[] {
  // The first result of each timer's line, found in one pass (not a scan of every result per timer).
  const lines = new Set(timers.map((t) => timerLineId(t.id)));
  const first = new Map<string, ProbeResult>();
  for (const p of results) if (lines.has(p.line) && !first.has(p.line)) first.set(p.line, p);
  return timers.map((t) => {
    const base: TimerResult = { id: t.id, protocol: t.protocol, seconds: t.seconds, description: t.description, checked: false };
    const r = first.get(timerLineId(t.id));
    if (!r) return interrupted ? { ...base, note: 'the run was interrupted before this timer was checked' } : base;
    const d = r.data as unknown as IdleCheckData | undefined;
    if (!d || !Array.isArray(d.flows)) {
      const verdict: Verdict = 'inconclusive';
      return { ...base, checked: true, probe: r.id, target: hostPort(r.host, r.port), verdict, reason: r.detail ?? r.reason };
    }
    return {
      ...base,
      checked: true,
      probe: r.id,
      target: hostPort(r.host, r.port),
      verdict: d.verdict,
      reason: d.verdictReason,
      requireMs: d.requireMs,
      mode: d.mode,
      bracket: d.bracket,
      flows: d.flows,
    };
  });
}
