/**
 * Big lines summarised the way nmap summarises a port scan (issue 14): "Not shown: 65526 closed
 * ports", then only the ports that differ. A line with {@link SWEEP_SUMMARY_MIN_PROBES} probes or
 * more (a swept range, 64 UDP ports on seven servers) is told as counts per status, most common
 * first ("57,342 refused, 8,192 ok"), followed by its exceptions: every probe whose status is not the
 * line's most common one, grouped by status and reason, the first {@link SWEEP_EXCEPTIONS_SHOWN} of
 * each group by name. The JSON report still lists every probe. Pure: used by the text and Markdown
 * renderers.
 */
import type { ProbeResult, Status } from '../types.js';
import { STATUSES } from '../types.js';

/**
 * Lines with at least this many probes are summarised. Below it, listing the probes that did not
 * pass is short enough to read; from 32 on (a /27 sweep, a 64-port UDP range) counts and
 * exceptions read better than a list cut at eight.
 */
export const SWEEP_SUMMARY_MIN_PROBES = 32;

/** Probes listed by name per group of exceptions (same status and reason); the rest are counted. */
export const SWEEP_EXCEPTIONS_SHOWN = 10;

/** A group of exceptions: probes of one status and reason that differ from the line's common status. */
export interface SweepExceptions {
  status: Status;
  reason: string;
  count: number;
  /** The first {@link SWEEP_EXCEPTIONS_SHOWN}, in plan order. */
  shown: ProbeResult[];
}

export interface SweepSummary {
  probes: number;
  /** Probes per status, most common first (ties in the usual status order). */
  counts: { status: Status; count: number }[];
  /** The most common status: its probes are counted, not listed. */
  common: Status;
  /** Everything else, the rarest group first. */
  exceptions: SweepExceptions[];
}

const ORDER = new Map(STATUSES.map((s, i) => [s, i]));

/** The summary of a line's probes, or undefined for a line small enough to list. One pass. */
export function sweepSummary(probes: readonly ProbeResult[]): SweepSummary | undefined {
  if (probes.length < SWEEP_SUMMARY_MIN_PROBES) return undefined;
  const byStatus = new Map<Status, number>();
  for (const p of probes) byStatus.set(p.status, (byStatus.get(p.status) ?? 0) + 1);
  const counts = [...byStatus].map(([status, count]) => ({ status, count })).sort((a, b) => b.count - a.count || (ORDER.get(a.status) ?? 99) - (ORDER.get(b.status) ?? 99));
  const common = counts[0]!.status;
  const groups = new Map<string, SweepExceptions>();
  for (const p of probes) {
    if (p.status === common) continue;
    const key = `${p.status}\u0000${p.reason}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { status: p.status, reason: p.reason, count: 0, shown: [] }));
    g.count++;
    if (g.shown.length < SWEEP_EXCEPTIONS_SHOWN) g.shown.push(p);
  }
  const exceptions = [...groups.values()].sort(
    (a, b) => a.count - b.count || (ORDER.get(a.status) ?? 99) - (ORDER.get(b.status) ?? 99) || (a.reason < b.reason ? -1 : a.reason > b.reason ? 1 : 0),
  );
  return { probes: probes.length, counts, common, exceptions };
}

/** `4,094` */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `57,342 refused, 8,192 ok` */
export function describeSweepCounts(s: SweepSummary): string {
  return s.counts.map((c) => `${formatCount(c.count)} ${c.status}`).join(', ');
}

/** `… and 8,182 more ok (CONNECTED)`, or undefined when every probe of the group was shown. */
export function moreText(g: SweepExceptions): string | undefined {
  const rest = g.count - g.shown.length;
  return rest > 0 ? `… and ${formatCount(rest)} more ${g.status} (${g.reason})` : undefined;
}
