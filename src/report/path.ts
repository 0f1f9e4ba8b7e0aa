/**
 * What the report says about where a line fails (issue 17): the trace of its failed probes in the
 * line's reason, where to look in its remediation, and the advice for a path-MTU black hole.
 * Pure: reads `data.trace` / `data.pmtu` that the run's path phase (src/path/) attached.
 */
import type { PmtuData } from '../path/pmtu.js';
import type { MediaData } from '../probers/media.js';
import type { TraceResult } from '../path/trace.js';
import { describePlace } from '../path/trace.js';
import type { ProbeResult } from '../types.js';
import { formatPorts, hostPort } from '../util/ip.js';

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

/** Where to look, from the traces (none when nothing was traced or nothing answered); one hint per stop. */
function traceHints(bad: ProbeResult[]): string[] {
  const stops = new Map<string, { t: TraceResult; ports: number[] }>();
  for (const t of bad.map(traceOf)) {
    if (!t?.traced || !t.lastHop) continue;
    const key = `${t.protocol}|${t.destination}|${t.lastHop.ttl}|${t.lastHop.address}|${t.lastHop.icmp ?? ''}`;
    const e = stops.get(key) ?? { t, ports: [] };
    e.ports.push(t.port);
    stops.set(key, e);
  }
  const out: string[] = [];
  for (const { t, ports } of stops.values()) {
    const h = t.lastHop!;
    const at = `hop ${h.ttl} (${h.address})`;
    const proto = `${t.protocol.toUpperCase()} ${formatPorts(ports)}`;
    const what = `${proto} to ${t.destination}`;
    // A UDP trace that goes quiet may also have reached a destination that takes UDP silently.
    const unsure = t.protocol === 'udp' && !h.icmp ? 'if the destination should answer, ' : '';
    out.push(
      h.place === 'inside'
        ? `The path of ${what} stops inside your network, after ${at}: ${unsure}the block is on your side, at that device or the next one.`
        : h.place === 'provider-nat'
          ? `The path of ${what} stops in your provider's carrier-grade NAT, after ${at}: ${unsure}ask your provider whether it filters ${proto}.`
          : `The path of ${what} leaves your network and stops after ${at}, ${describePlace(h.place)}: ${unsure}ask your provider, or the vendor, whether something there filters it.`,
    );
  }
  return out;
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
  for (const r of bad) {
    const m = mediaAdvice(r);
    if (!m) continue;
    handled.add(r);
    parts.push(m);
  }
  return { parts, hints: traceHints(bad), handled };
}

/**
 * A media check that got echoes back failed on quality, not reachability: "allow the port" would
 * be the wrong advice. Say what was wrong, in which direction, and what usually causes it.
 */
function mediaAdvice(r: ProbeResult): string | undefined {
  if (r.kind !== 'media' || !['MEDIA_LOSS', 'MEDIA_RTT', 'MEDIA_JITTER'].includes(r.reason)) return undefined;
  const d = r.data as unknown as MediaData | undefined;
  if (!d?.lossPct) return undefined;
  const what = `Voice on UDP ${r.port} to ${r.host}`;
  const t = d.thresholds;
  const dirs = (v: { up?: number; down?: number; roundTrip?: number }, limit: number, unit: string): string =>
    d.perDirection
      ? [v.up !== undefined && v.up >= limit ? `${v.up}${unit} on the way up (from this network)` : '', v.down !== undefined && v.down >= limit ? `${v.down}${unit} on the way down (towards this network)` : ''].filter(Boolean).join(' and ')
      : `${v.roundTrip ?? v.down}${unit} (round trip; direction unknown)`;
  const out: string[] = [];
  if (r.reason === 'MEDIA_LOSS' || d.exceeded.some((e) => e.startsWith('loss'))) {
    out.push(`${what} loses ${dirs(d.lossPct, t.maxLossPct, '%')} of its datagrams (voice needs under ${t.maxLossPct}%): look for a congested or lossy link on that side (Wi-Fi, a saturated uplink), a policer or shaper on UDP, or a flood protection dropping UDP bursts.`);
  }
  if (d.exceeded.some((e) => e.startsWith('RTT'))) {
    out.push(`${what} takes ${d.rttMs?.avg} ms there and back (voice needs under ${t.maxRttMs} ms): route media directly (not through a VPN or proxy hairpin) and keep queues short on the uplink.`);
  }
  if (d.exceeded.some((e) => e.startsWith('jitter'))) {
    out.push(`${what} arrives unevenly, jitter ${dirs(d.jitterMs, t.maxJitterMs, ' ms')} (voice needs under ${t.maxJitterMs} ms): give media priority (QoS, DSCP EF) and look for congested links.`);
  }
  return out.join(' ') || undefined;
}
