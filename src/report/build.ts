/**
 * Plan + probe results → the finished Report: a verdict per documented line with its reason and
 * remediation, run-level diagnoses first. Pure: no network, no clock reads beyond what is passed.
 */
import type { Plan, PlanLine } from '../catalog/expand.js';
import type { FdShortage } from '../engine/run.js';
import type { Diagnosis, LineResult, ProbeResult, Report, RunSummary, Status, Verdict } from '../types.js';
import { REPORT_SCHEMA_VERSION, STATUSES } from '../types.js';
import { formatPorts, hostPort } from '../util/ip.js';
import { TIMER_KINDS, timerResults } from './timers.js';
import { trustRemediation } from './trust-remediation.js';

export interface BuildInput {
  plan: Plan;
  results: ProbeResult[];
  startedAt: Date;
  finishedAt: Date;
  interrupted: boolean;
  version: string;
  control?: ProbeResult;
  catalogFile?: string;
  /** This host ran out of file descriptors during the run (the engine's account of it). */
  fdShortage?: FdShortage;
}

const HARD: ReadonlySet<Status> = new Set(['refused', 'unreachable', 'filtered', 'timeout', 'error']);
/** Kinds whose `ok` only means "a TCP handshake completed", which an interceptor can fake. */
const TCP_ONLY_KINDS = new Set(['tcp']);

export function countStatuses(rs: ProbeResult[]): Partial<Record<Status, number>> {
  const out: Partial<Record<Status, number>> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

function describeCounts(c: Partial<Record<Status, number>>): string {
  return STATUSES.filter((s) => c[s]).map((s) => `${c[s]} ${s}`).join(', ');
}

/** Verdict of one line from its probe results. */
export function lineVerdict(rs: ProbeResult[], policy: 'all' | 'any', intercepted: boolean): { verdict: Verdict; reason: string } {
  const considered = rs.filter((r) => r.status !== 'skipped');
  const skippedNote = rs.length > considered.length ? ` (${rs.length - considered.length} skipped)` : '';
  if (considered.length === 0) {
    const why = [...new Set(rs.map((r) => r.detail ?? r.reason))].join('; ');
    return { verdict: 'inconclusive', reason: `not checked: ${why || 'no probes'}` };
  }
  const n = considered.length;
  const ok = considered.filter((r) => r.status === 'ok');
  const hard = considered.filter((r) => HARD.has(r.status)).length;
  const soft = considered.filter((r) => r.status === 'open|filtered').length;
  const counts = describeCounts(countStatuses(considered));

  let v: { verdict: Verdict; reason: string };
  if (policy === 'any') {
    if (ok.length > 0) v = { verdict: 'pass', reason: `${ok.length} of ${n} sampled probes answered` };
    else if (considered.every((r) => r.status === 'filtered' || r.status === 'open|filtered' || r.status === 'timeout')) {
      v = {
        verdict: 'inconclusive',
        reason: `none of ${n} sampled probes answered (${counts}); silence from an address in a range may mean a firewall drop or simply no host there`,
      };
    } else v = { verdict: 'fail', reason: `none of ${n} sampled probes got through (${counts})` };
  } else if (ok.length === n) v = { verdict: 'pass', reason: n === 1 ? '1 probe ok' : `all ${n} probes ok` };
  else if (ok.length === 0 && soft === 0) v = { verdict: 'fail', reason: `${counts}` };
  else if (hard === 0) {
    v = {
      verdict: 'inconclusive',
      reason: ok.length
        ? `${ok.length} of ${n} answered, ${soft} silent (UDP silence is open or filtered, not proof)`
        : `no reply to any of ${n} UDP probes and no ICMP error: open or filtered, cannot tell which`,
    };
  } else if (ok.length === 0) v = { verdict: 'fail', reason: counts };
  else v = { verdict: 'partial', reason: `${ok.length} of ${n} ok; ${counts}` };

  if (intercepted && v.verdict === 'pass' && ok.every((r) => TCP_ONLY_KINDS.has(r.kind))) {
    v = { verdict: 'inconclusive', reason: `${v.reason}, but TCP connects prove nothing here: the control address that must not answer did connect` };
  }
  return { ...v, reason: v.reason + skippedNote };
}

/**
 * The verdict of a line, leaving out probes this host could not send (`local`: out of file
 * descriptors). Those say nothing about the network: a line that would pass only because they
 * were left out is inconclusive, and one with nothing else is not checked.
 */
function withLocalFailures(rs: ProbeResult[], policy: 'all' | 'any', intercepted: boolean): { verdict: Verdict; reason: string } {
  const local = rs.filter((r) => r.local);
  if (local.length === 0) return lineVerdict(rs, policy, intercepted);
  const why = `${local.length} probe(s) could not be sent: this host ran out of file descriptors`;
  const measured = rs.filter((r) => !r.local);
  if (measured.length === 0) return { verdict: 'inconclusive', reason: `not checked: ${why}` };
  const v = lineVerdict(measured, policy, intercepted);
  if (v.verdict === 'pass' && policy === 'all') return { verdict: 'inconclusive', reason: `${v.reason}, but ${why}` };
  return { ...v, reason: `${v.reason}; ${why}` };
}

type FailClass = 'silent-udp' | 'dropped' | 'refused' | 'unreachable' | 'other';

function failClass(s: Status): FailClass {
  return s === 'open|filtered' ? 'silent-udp' : s === 'filtered' ? 'dropped' : s === 'refused' ? 'refused' : s === 'unreachable' ? 'unreachable' : 'other';
}

function protoOf(kind: string): string {
  return kind === 'udp' || kind === 'udp-idle' ? 'UDP' : 'TCP';
}

/** What an IT admin should do about a line that did not pass. */
export function remediation(pl: PlanLine, rs: ProbeResult[], verdict: Verdict): string | undefined {
  if (verdict === 'pass') return undefined;
  const what = `${pl.def.description}`;
  const bad = rs.filter((r) => r.status !== 'ok' && r.status !== 'skipped');
  if (bad.length === 0) {
    const skipped = rs.find((r) => r.status === 'skipped');
    return skipped ? `Not checked: ${skipped.detail ?? skipped.reason}.` : undefined;
  }
  const parts: string[] = [];
  const dnsBad = bad.filter((r) => r.kind === 'dns');
  if (dnsBad.length) {
    parts.push(`Make sure ${[...new Set(dnsBad.map((r) => r.host))].join(', ')} resolve${dnsBad.length === 1 ? 's' : ''} from this network (${[...new Set(dnsBad.map((r) => r.reason))].join(', ')}): check the DNS servers in use and any DNS filtering.`);
  }
  const stalled = bad.filter((r) => r.status === 'timeout');
  if (stalled.length) {
    parts.push(`Connections to ${[...new Set(stalled.map((r) => hostPort(r.host, r.port)))].slice(0, 6).join(', ')} open but then stall: look for a proxy, DPI or IPS device interfering with ${what}.`);
  }
  // Interception, proxy refusals, block pages, bad revocation answers: their own advice (issue 4).
  const trust = trustRemediation(bad, what);
  parts.push(...trust.parts);
  // Group the rest by how they failed, protocol and destination → ports, then by identical port sets.
  const groups = new Map<string, { how: FailClass; proto: string; ports: number[]; host: string }>();
  for (const r of bad) {
    if (r.kind === 'dns' || r.status === 'timeout' || r.port === undefined || trust.handled.has(r)) continue;
    const how = failClass(r.status);
    const proto = protoOf(r.kind);
    const key = `${how} ${proto} ${r.host}`;
    const g = groups.get(key) ?? { how, proto, ports: [], host: r.host };
    g.ports.push(r.port);
    groups.set(key, g);
  }
  const byPorts = new Map<string, { how: FailClass; proto: string; ports: string; hosts: string[] }>();
  for (const g of groups.values()) {
    const ports = formatPorts(g.ports);
    const key = `${g.how} ${g.proto} ${ports}`;
    const e = byPorts.get(key) ?? { how: g.how, proto: g.proto, ports, hosts: [] };
    e.hosts.push(g.host);
    byPorts.set(key, e);
  }
  const sampled = pl.sampling.length ? pl.sampling.map((s) => s.cidr) : undefined;
  const label = `${what}${pl.def.role ? `, ${pl.def.role.replace('-', ' ')}` : ''}`;
  for (const e of byPorts.values()) {
    const hosts = (sampled ?? e.hosts).join(', ');
    const rule = `outbound ${e.proto} ${e.ports} to ${hosts} (${label})`;
    parts.push(
      e.how === 'silent-udp'
        ? `Confirm that ${rule} is allowed: UDP silence cannot prove it; check the firewall log for drops, or test against a netcheck reflector.`
        : e.how === 'dropped'
          ? `Allow ${rule}: connection attempts are silently dropped.`
          : e.how === 'refused'
            ? `Allow ${rule}: it is actively refused (${e.proto === 'UDP' ? 'ICMP port unreachable' : 'TCP reset'}) by a firewall, or nothing listens there; if your firewall already allows it, ask the vendor.`
            : e.how === 'unreachable'
              ? `Allow ${rule}: it is rejected with ICMP unreachable (a firewall reject rule, or no route).`
              : `Check ${rule}: the probe failed locally (see the probe detail).`,
    );
  }
  return parts.join(' ');
}

/** Assemble the Report. */
export function buildReport(input: BuildInput): Report {
  const { plan, results } = input;
  const byLine = new Map<string, ProbeResult[]>();
  for (const r of results) byLine.set(r.line, [...(byLine.get(r.line) ?? []), r]);
  const controlConnected = input.control?.status === 'ok';

  const lines: LineResult[] = plan.lines.map((pl) => {
    const rs = byLine.get(pl.id) ?? [];
    const policy = pl.def.expect ?? (pl.sampling.some((s) => s.strategy !== 'all') ? 'any' : 'all');
    const { verdict, reason: baseReason } =
      rs.length === 0 && input.interrupted
        ? { verdict: 'inconclusive' as Verdict, reason: 'not checked: the run was interrupted first' }
        : withLocalFailures(rs, policy, controlConnected);
    const rem = remediation(pl, rs, verdict);
    // DNS drift: the name resolves, but not (only) to what the document pairs it with. Not a failure
    // (a CDN may serve it), but an address-based firewall built from the document would block it.
    const drift = rs.filter((r) => r.reason === 'DNS_DRIFT').map((r) => `${r.host} → ${((r.data?.drift as string[] | undefined) ?? []).join(', ')}`);
    const reason = drift.length ? `${baseReason}; DNS drift: ${drift.join('; ')} (outside the document's addresses)` : baseReason;
    return {
      id: pl.id,
      section: pl.section.id,
      description: pl.def.description,
      ...(pl.def.role ? { role: pl.def.role } : {}),
      required: pl.def.required ?? true,
      ...(pl.def.condition ? { condition: pl.def.condition } : {}),
      source: pl.def.source ?? pl.section.source ?? plan.catalog.source,
      verdict,
      reason,
      ...(rem ? { remediation: rem } : {}),
      probes: rs.map((r) => r.id),
      counts: countStatuses(rs),
      ...(pl.sampling.length ? { sampling: pl.sampling } : {}),
    };
  });

  const summary: RunSummary = {
    verdicts: { pass: 0, fail: 0, partial: 0, inconclusive: 0 },
    statuses: countStatuses(results),
    requiredFailing: 0,
    requiredInconclusive: 0,
    probes: results.length,
  };
  // A document timer that was measured counts like a required line: a path that forgets idle flows
  // sooner than the document requires fails the run (exit 1).
  const timers = plan.catalog.timers?.length ? timerResults(plan.catalog.timers, results, input.interrupted) : [];
  for (const t of timers) {
    if (t.verdict === 'fail') summary.requiredFailing++;
    if (t.verdict === 'inconclusive') summary.requiredInconclusive++;
  }
  for (const l of lines) {
    summary.verdicts[l.verdict]++;
    if (l.required && (l.verdict === 'fail' || l.verdict === 'partial')) summary.requiredFailing++;
    if (l.required && l.verdict === 'inconclusive') summary.requiredInconclusive++;
  }

  const diagnoses = [...diagnose(results, input), ...fdDiagnoses(input.fdShortage)];
  const sectionIds = new Set(plan.lines.map((l) => l.section.id));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'netcheck', version: input.version },
    catalog: {
      id: plan.catalog.id,
      title: plan.catalog.title,
      sources: [...new Set([plan.catalog.source, ...plan.catalog.sections.map((s) => s.source).filter((s): s is string => !!s)])],
      ...(input.catalogFile ? { file: input.catalogFile } : {}),
    },
    parameters: plan.params,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    interrupted: input.interrupted,
    diagnoses,
    ...(input.control ? { control: { target: hostPort(input.control.host, input.control.port), status: input.control.status, reason: input.control.reason } } : {}),
    summary,
    sections: plan.catalog.sections
      .filter((s) => sectionIds.has(s.id))
      .map((s) => ({
        id: s.id,
        name: s.name,
        ...(s.description ? { description: s.description } : {}),
        source: s.source ?? plan.catalog.source,
        lines: plan.lines.filter((l) => l.section.id === s.id).map((l) => l.id),
      })),
    lines,
    probes: results,
    ...(plan.notApplicable.length ? { notApplicable: plan.notApplicable } : {}),
    ...(plan.catalog.timers?.length
      ? { timers }
      : {}),
  };
}

function diagnose(results: ProbeResult[], input: BuildInput): Diagnosis[] {
  const out: Diagnosis[] = [];
  if (input.interrupted) {
    out.push({ code: 'INTERRUPTED', severity: 'warning', message: `interrupted: ${results.length} of ${input.plan.probes.length} probes finished; lines without results are inconclusive` });
  }
  // Idle-timer statuses speak of timers (a flow forgotten), not of reachability.
  const network = results.filter((r) => r.status !== 'skipped' && !r.internal && !r.local && !TIMER_KINDS.has(r.kind));
  // One destination that actively refuses every port answered us: that is the destination's
  // problem, not the network's. Silence or no route, or many destinations failing, is the network's.
  const destinations = new Set(network.map((r) => r.address ?? r.host));
  const oneHostRefusing = destinations.size === 1 && network.every((r) => r.status === 'refused');
  if (!oneHostRefusing && network.length > 0 && !network.some((r) => r.status === 'ok')) {
    const reasons = countStatuses(network);
    const allNoRoute = network.every((r) => r.reason === 'ENETUNREACH' || r.reason === 'EAI_AGAIN' || (r.kind === 'dns' && r.status !== 'ok'));
    out.push({
      code: 'NO_OUTBOUND_CONNECTIVITY',
      severity: 'critical',
      message: allNoRoute
        ? `no outbound connectivity: this host has no route to any destination (${describeCounts(reasons)}); check the network connection and default route before reading the lines below`
        : `no outbound connectivity: none of the ${network.length} probes got through (${describeCounts(reasons)}); check the network connection, the default route, and whether a proxy is required, before reading the lines below`,
    });
  }
  if (input.control?.status === 'ok') {
    out.push({
      code: 'TCP_INTERCEPTION',
      severity: 'critical',
      message: `TCP interception: the control address ${hostPort(input.control.host, input.control.port)}, which must never answer, completed a TCP handshake. Something on this network (captive portal, transparent proxy, security appliance) answers connections itself, so TCP-only results are marked inconclusive`,
    });
  }
  return out;
}

/**
 * This host ran out of file descriptors: one finding, never a network verdict. Critical when
 * probes could not be sent at all, a warning when lowering the concurrency was enough.
 */
export function fdDiagnoses(fd: FdShortage | undefined): Diagnosis[] {
  if (!fd) return [];
  if (fd.gaveUp > 0) {
    return [{
      code: 'FD_EXHAUSTED',
      severity: 'critical',
      message: `this host ran out of file descriptors; raise ulimit -n: ${fd.gaveUp} probe(s) could not be sent, still after netcheck lowered the probes in flight from ${fd.inFlight} to ${fd.loweredTo}, so they are not checked (this says nothing about the network)`,
    }];
  }
  return [{
    code: 'FD_EXHAUSTED',
    severity: 'warning',
    message: `this host ran out of file descriptors with ${fd.inFlight} probes in flight; netcheck lowered that to ${fd.loweredTo} and re-sent ${fd.retried} probe(s), so every result stands, but raise ulimit -n for a faster run`,
  }];
}
