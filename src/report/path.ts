/**
 * What the report says about where a line fails (issue 17): the trace of its failed probes in the
 * line's reason, where to look in its remediation, and the advice for a path-MTU black hole.
 * Pure: reads `data.trace` / `data.pmtu` that the run's path phase (src/path/) attached.
 */
import type { PmtuData } from '../path/pmtu.js';
import type { TraceResult } from '../path/trace.js';
import { describePlace } from '../path/trace.js';
import type { ProbeResult } from '../types.js';
import { hostPort } from '../util/ip.js';

function traceOf(r: ProbeResult): TraceResult | undefined {
  const t = r.data?.trace as TraceResult | undefined;
  return t && typeof t === 'object' && typeof t.summary === 'string' ? t : undefined;
}

/** The traces of a line's probes, for its reason: `path to 10.0.0.5 (TCP 5223, traceroute -T -p 5223): dropped after hop 1 (…)`. */
export function pathReason(rs: ProbeResult[]): string | undefined {
  const parts = rs
    .map(traceOf)
    .filter((t): t is TraceResult => !!t)
    .map((t) => `path to ${t.destination} (${t.protocol.toUpperCase()} ${t.port}${t.tool ? `, ${t.tool}` : ''}): ${t.summary}`);
  return parts.length ? parts.join('; ') : undefined;
}

/** Where to look, from the traces (none when nothing was traced or nothing answered). */
function traceHints(bad: ProbeResult[]): string[] {
  const out: string[] = [];
  for (const t of bad.map(traceOf)) {
    if (!t?.traced || !t.lastHop) continue;
    const at = `hop ${t.lastHop.ttl} (${t.lastHop.address})`;
    const what = `${t.protocol.toUpperCase()} ${t.port} to ${t.destination}`;
    out.push(
      t.lastHop.place === 'inside'
        ? `The path of ${what} stops inside your network, after ${at}: the block is on your side, at that device or the next one.`
        : t.lastHop.place === 'provider-nat'
          ? `The path of ${what} stops in your provider's carrier-grade NAT, after ${at}: ask your provider whether it filters ${what.split(' to ')[0]}.`
          : `The path of ${what} leaves your network and stops after ${at}, ${describePlace(t.lastHop.place)}: ask your provider, or the vendor, whether something there filters it.`,
    );
  }
  return [...new Set(out)];
}

/**
 * Advice for path-MTU black holes (`parts`), and where the traces say to look (`hints`, after the
 * rule to allow). `handled` holds the stalled
 * probes explained here, so the generic "opens, then stalls" advice is not given twice.
 */
export function pathRemediation(bad: ProbeResult[], what: string): { parts: string[]; hints: string[]; handled: Set<ProbeResult> } {
  const handled = new Set<ProbeResult>();
  const parts: string[] = [];
  const holes = bad.filter((r) => r.reason === 'PMTU_BLACKHOLE');
  if (holes.length) {
    for (const r of holes) handled.add(r);
    const largest = Math.min(...holes.map((r) => (r.data?.pmtu as PmtuData | undefined)?.largestPassedBytes ?? 1280));
    const where = [...new Set(holes.map((r) => hostPort(r.host, r.port)))].slice(0, 6).join(', ');
    parts.push(
      `Connections to ${where} (${what}) open, but packets larger than ${largest} bytes never arrive and nothing says so: a path-MTU black hole. ` +
        `Allow ICMP "fragmentation needed" (IPv4 type 3 code 4; IPv6 "packet too big", type 2) through every firewall and router on the path, ` +
        `or clamp the TCP MSS to ${largest - 40} on your firewall (nftables: tcp flags syn tcp option maxseg size set rt mtu).`,
    );
  }
  return { parts, hints: traceHints(bad), handled };
}
