/**
 * Presentation helpers shared by the Markdown, HTML and JUnit renderers, so every format says the
 * same headline and reads idle-timer results the same way. Pure.
 */
import type { AllowRule, FixCode, FixInstruction, ProbeResult, Report, SourceDocument, Verdict } from '../types.js';
import { URL_KINDS } from '../probers/index.js';
import { formatPorts, hostPort } from '../util/ip.js';

export const VERDICT_LABEL: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', partial: 'PARTIAL', inconclusive: 'INCONCLUSIVE' };

/**
 * What a probe was aimed at, as its reader would name it: the name of a DNS lookup, the URL of an
 * OCSP or CRL fetch (host:port alone would not say which responder path failed), else host:port.
 */
export function probeTarget(p: ProbeResult): string {
  if (p.kind === 'dns') return p.host;
  const url = p.data?.url;
  if (URL_KINDS.has(p.kind) && typeof url === 'string' && url) return url;
  return hostPort(p.host, p.port);
}

/** The one-sentence result, worded like the terminal report. */
export function headline(report: Report): string {
  const s = report.summary;
  if (report.diagnoses.some((d) => d.code === 'NO_OUTBOUND_CONNECTIVITY')) return 'RESULT: no outbound connectivity (see below)';
  if (s.requiredFailing > 0) return `RESULT: ${s.requiredFailing} required line(s) failing`;
  if (s.requiredInconclusive > 0) return `RESULT: no required line failed, ${s.requiredInconclusive} inconclusive`;
  return 'RESULT: every required line passes';
}

/** One idle flow of a timer check, as far as the report says. */
export interface IdleFlow {
  protocol: string;
  /** Which check or timer it belongs to. */
  label: string;
  gapMs: number;
  /** True survived, false lost, null when nothing could show either (held only, pending, error). */
  survived: boolean | null;
  /** How it was lost (rst, silent-drop, icmp, nat-remapped, closed), or why it is unproven. */
  how?: string;
  /** The required idle time it is judged against, when known. */
  requiredMs?: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function num(...vs: unknown[]): number | undefined {
  for (const v of vs) if (typeof v === 'number' && Number.isFinite(v)) return v;
  return undefined;
}

function flowsOf(raw: unknown, protocol: string, label: string, requiredMs: number | undefined): IdleFlow[] {
  if (!Array.isArray(raw)) return [];
  const out: IdleFlow[] = [];
  for (const f of raw) {
    if (!f || typeof f !== 'object') continue;
    const r = f as Record<string, unknown>;
    const gapMs = num(r.gapMs, typeof r.gapSeconds === 'number' ? r.gapSeconds * 1000 : undefined);
    if (gapMs === undefined) continue;
    const survived = typeof r.survived === 'boolean' ? r.survived : null;
    const how = survived === true ? undefined : (str(r.lost) ?? str(r.how) ?? (survived === null ? str(r.state) : undefined) ?? str(r.reason));
    out.push({ protocol: str(r.protocol) ?? protocol, label, gapMs, survived, ...(how ? { how } : {}), ...(requiredMs ? { requiredMs } : {}) });
  }
  return out;
}

/** The bracket sentence of a timer result ("this path forgets idle TCP flows after 8m to 11m"). */
export function bracketText(v: unknown): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (v && typeof v === 'object') return str((v as Record<string, unknown>).text);
  return undefined;
}

/**
 * Idle flows measured by timer checks, from wherever the report holds them: measured `timers`
 * entries with a `flows` array, and idle-check probe results (`data.flows` of tcp-idle, udp-idle,
 * ws-idle) not already covered by a timer entry. Empty when nothing was measured: unmeasured timers
 * are not flows.
 */
export function idleFlows(report: Report): IdleFlow[] {
  const out: IdleFlow[] = [];
  const covered = new Set<string>();
  for (const t of report.timers ?? []) {
    const r = t as unknown as Record<string, unknown>;
    const flows = flowsOf(r.flows, t.protocol, t.id, num(r.requireMs, r.requiredMs) ?? t.seconds * 1000);
    if (flows.length && typeof r.probe === 'string') covered.add(r.probe);
    out.push(...flows);
  }
  for (const p of report.probes) {
    const d = p.data;
    if (!d || covered.has(p.id)) continue;
    // Only idle-check results carry flows; a loop, not push(...spread), once per probe of a sweep.
    if (!Array.isArray(d.flows)) continue;
    for (const f of flowsOf(d.flows, p.kind.replace(/-idle$|-hold$/, ''), p.line, num(d.requireMs, d.requiredMs))) out.push(f);
  }
  return out;
}

/** The last timestamps {@link offsetMs} parsed: probes of a sweep share one per millisecond. */
const parsed = { start: '', startMs: NaN, iso: '', ms: NaN };

/** Milliseconds from the run's start to an ISO timestamp (0 when unparsable). */
export function offsetMs(report: Report, iso: string): number {
  // Date.parse twice per probe was most of rendering a 65,534-probe report to HTML or JUnit.
  if (parsed.start !== report.startedAt) {
    parsed.start = report.startedAt;
    parsed.startMs = Date.parse(report.startedAt);
  }
  if (parsed.iso !== iso) {
    parsed.iso = iso;
    parsed.ms = Date.parse(iso);
  }
  const t = parsed.ms - parsed.startMs;
  return Number.isFinite(t) && t > 0 ? t : 0;
}

/**
 * How a renderer words an empty part of the fingerprint: `unknown` where it could not be read,
 * `none` only where it was read and is empty. Pure (renderers call it).
 */
export function envEmptyWord(env: NonNullable<Report['environment']>, part: 'interfaces' | 'routes' | 'dns'): string {
  if (part === 'interfaces') return env.interfacesSource === 'unknown' ? 'unknown (could not be read)' : 'none';
  if (part === 'routes') return env.routeSource === 'unknown' ? 'unknown (could not be read)' : 'none';
  return env.dns.source === 'unknown' ? 'unknown (could not be read)' : 'none found';
}

/** The heading every format gives the fix list (issue 16). */
export const FIX_TITLE = 'Ask your network team to allow';

/** How to turn the fix list into firewall syntax. */
export const FIX_FORMATS_HINT = 'As nftables, iptables or CSV: netcheck allowlist --from-report REPORT.json --format nft|iptables|csv';

/** Short names of the fixes that are not firewall rules. */
export const FIX_LABEL: Record<FixCode, string> = {
  DNS_DRIFT: 'DNS drift',
  DNS_FAILURE: 'DNS failure',
  DNS_INTERCEPTION: 'DNS interception',
  TLS_INSPECTION: 'TLS inspection',
  PROXY: 'Proxy',
  WEB_FILTER: 'Web filter',
  PATH_MTU: 'Path-MTU black hole',
  STALLED: 'Stalled or dropped connections',
  MEDIA_QUALITY: 'Media quality',
  SERVICE: 'Service answer',
  LOCAL: 'Not a network matter',
};

/** A rule's protocol and ports as a reader says them: "outbound TCP 80,443". */
export function ruleWhat(r: AllowRule): string {
  return `${r.direction} ${r.protocol.toUpperCase()} ${formatPorts(r.ports)}`;
}

/** A rule's destinations (addresses, ranges, then names). */
export function ruleDests(r: AllowRule): string[] {
  return [...r.v4, ...r.v6, ...r.names];
}

/** The fix list entries of one documented line. */
export function fixesOf(report: Report, line: string): { rules: AllowRule[]; instructions: FixInstruction[] } {
  return {
    rules: report.fixList?.rules.filter((r) => r.line === line) ?? [],
    instructions: report.fixList?.instructions.filter((i) => i.line === line) ?? [],
  };
}

/** Publisher, revision and date seen of the source document: "ESChat; 4.x cloud; seen 2026-11-22". */
export function documentMeta(d: SourceDocument): string {
  return [d.publisher, d.revision, d.seen ? `seen ${d.seen}` : undefined].filter(Boolean).join('; ');
}

/** The source document in one line: "Title" (publisher; revision; seen DATE) URL. */
export function documentText(d: SourceDocument | undefined): string | undefined {
  if (!d) return undefined;
  const meta = documentMeta(d);
  return `"${d.title}"${meta ? ` (${meta})` : ''}${d.url ? ` ${d.url}` : ''}`;
}

/** Reason codes of a line's probes, most frequent first, e.g. "SYN_TIMEOUT ×3, ECONNREFUSED". */
export function reasonCodes(probes: ProbeResult[]): string {
  const counts = new Map<string, number>();
  for (const p of probes) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([r, n]) => (n > 1 ? `${r} ×${n}` : r))
    .join(', ');
}
