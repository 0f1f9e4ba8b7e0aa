/**
 * Plan + probe results → the finished Report: a verdict per documented line with its reason and
 * remediation, run-level diagnoses first. Pure: no network, no clock reads beyond what is passed.
 */
import type { Plan, PlanLine } from '../catalog/expand.js';
import type { Diagnosis, FdShortage, LineResult, ProbeResult, Report, RunSummary, Status, Verdict } from '../types.js';
import { REPORT_SCHEMA_VERSION, STATUSES } from '../types.js';
import type { ResolverInfo } from '../net/target.js';
import { HANDSHAKE_ONLY_KINDS, protocolOf, TIMER_KINDS } from '../probers/index.js';
import { isStableReason } from '../reasons.js';
import { formatPorts, hostPort } from '../util/ip.js';
import { buildFixList } from './fixlist.js';
import { mediaReason } from './media.js';
import { pathReason, pathRemediation } from './path.js';
import { timerResults } from './timers.js';
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
/** Silence: no answer at all. From a sampled address it may mean "no host there". */
const SILENT: ReadonlySet<Status> = new Set(['filtered', 'open|filtered', 'timeout']);
/**
 * Failures of this host, not of the network: they say nothing about a path (issue 10: running out
 * of file descriptors once raised "no outbound connectivity").
 */
export const LOCAL_REASONS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'EADDRNOTAVAIL', 'EINVAL', 'INTERNAL', 'UNKNOWN_KIND', 'CA_FILE_UNUSABLE', 'CERT_FILE_UNUSABLE', 'BAD_CERT_FROM', 'BAD_URL']);

export function countStatuses(rs: ProbeResult[]): Partial<Record<Status, number>> {
  const out: Partial<Record<Status, number>> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

function describeCounts(c: Partial<Record<Status, number>>): string {
  return STATUSES.filter((s) => c[s]).map((s) => `${c[s]} ${s}`).join(', ');
}

/** How the resolver a probe used is named in advice ("the system resolver (10.0.0.53)"). */
function resolverText(r: ProbeResult): string {
  const res = r.data?.resolver as ResolverInfo | undefined;
  if (!res) return 'the resolver in use';
  const servers = res.servers.length ? res.servers.join(', ') : 'no server configured';
  return res.source === 'dns-server' ? `the DNS server given with --dns-server (${servers})` : `the system resolver (${servers})`;
}

/** A probe of a connecting kind that ended because its target name did not resolve. */
export function isResolveFailure(r: ProbeResult): boolean {
  return r.kind !== 'dns' && r.data?.resolver !== undefined && r.status !== 'ok' && r.phases?.connectMs === undefined;
}

/** One documented port of a line (or its DNS names): the unit a verdict is judged on. */
interface PortGroup {
  label: string;
  probes: ProbeResult[];
}

/** `TCP 5223`, `UDP 4201`, `tls 443`, `DNS`: what a reader of the document calls it. */
function groupLabel(r: ProbeResult): string {
  if (r.kind === 'dns') return 'DNS';
  if (r.port === undefined) return r.kind;
  return r.kind === 'tcp' || r.kind === 'udp' ? `${r.kind.toUpperCase()} ${r.port}` : `${r.kind} ${r.port}`;
}

function groupsOf(rs: ProbeResult[]): PortGroup[] {
  const m = new Map<string, PortGroup>();
  for (const r of rs) {
    const label = groupLabel(r);
    const g = m.get(label) ?? { label, probes: [] };
    g.probes.push(r);
    m.set(label, g);
  }
  return [...m.values()];
}

/** `TCP 5223: 4 filtered` (with the reasons of errors, which a status alone does not explain). */
function describeGroup(g: PortGroup): string {
  const errs = [...new Set(g.probes.filter((r) => r.status === 'error').map((r) => r.reason))].slice(0, 3);
  return `${g.label}: ${describeCounts(countStatuses(g.probes))}${errs.length ? ` (${errs.join(', ')})` : ''}`;
}

/** A line's verdict, its reason, and the probes its remediation must speak about. */
export interface LineJudgement {
  verdict: Verdict;
  reason: string;
  /** The probes that made the line fall short of `pass` (for `any` lines, only the ports that did not get through). */
  blame: ProbeResult[];
}

/**
 * Verdict of one line from its probe results, judged per documented port: with `all` every probe
 * must pass; with `any` (sampled ranges) every port must get through on at least one sampled
 * address, so a line whose TCP 80 answers while TCP 5223 is dropped everywhere is not a pass.
 * A TLS check that finds interception keeps a line from passing whatever the other samples say.
 */
export function lineVerdict(rs: ProbeResult[], policy: 'all' | 'any', intercepted: boolean): LineJudgement {
  const considered = rs.filter((r) => r.status !== 'skipped');
  const skippedNote = rs.length > considered.length ? ` (${rs.length - considered.length} skipped)` : '';
  if (considered.length === 0) {
    const why = [...new Set(rs.map((r) => r.detail ?? r.reason))].join('; ');
    return { verdict: 'inconclusive', reason: `not checked: ${why || 'no probes'}`, blame: rs };
  }
  const v = policy === 'any' ? anyVerdict(considered) : allVerdict(considered);
  const ok = considered.filter((r) => r.status === 'ok');
  if (intercepted && v.verdict === 'pass' && ok.every((r) => HANDSHAKE_ONLY_KINDS.has(r.kind))) {
    return {
      verdict: 'inconclusive',
      reason: `${v.reason}, but TCP connects prove nothing here: the control address that must not answer did connect${skippedNote}`,
      blame: ok,
    };
  }
  return { ...v, reason: v.reason + skippedNote };
}

function allVerdict(considered: ProbeResult[]): LineJudgement {
  const n = considered.length;
  const ok = considered.filter((r) => r.status === 'ok');
  const bad = considered.filter((r) => r.status !== 'ok');
  const hard = considered.filter((r) => HARD.has(r.status)).length;
  const soft = considered.filter((r) => r.status === 'open|filtered').length;
  const counts = describeCounts(countStatuses(considered));
  // Name the ports that did not get through when the line has several.
  const groups = groupsOf(considered);
  const which = groups.length > 1 ? ` — ${groups.filter((g) => g.probes.some((r) => r.status !== 'ok')).map(describeGroup).join('; ')}` : '';
  if (ok.length === n) return { verdict: 'pass', reason: n === 1 ? '1 probe ok' : `all ${n} probes ok`, blame: [] };
  if (ok.length === 0 && soft === 0) return { verdict: 'fail', reason: `${counts}${which}`, blame: bad };
  if (hard === 0) {
    return {
      verdict: 'inconclusive',
      reason: ok.length
        ? `${ok.length} of ${n} answered, ${soft} silent (UDP silence is open or filtered, not proof)`
        : `no reply to any of ${n} UDP probes and no ICMP error: open or filtered, cannot tell which`,
      blame: bad,
    };
  }
  if (ok.length === 0) return { verdict: 'fail', reason: `${counts}${which}`, blame: bad };
  return { verdict: 'partial', reason: `${ok.length} of ${n} ok; ${counts}${which}`, blame: bad };
}

function anyVerdict(considered: ProbeResult[]): LineJudgement {
  // An address that answered on some port (handshake or reset) exists: its silence on another
  // port is a drop, not an empty address.
  const alive = new Set(considered.filter((r) => r.status === 'ok' || r.status === 'refused').map((r) => r.address ?? r.host));
  const passed: PortGroup[] = [];
  const failed: PortGroup[] = [];
  const silent: PortGroup[] = [];
  for (const g of groupsOf(considered)) {
    const intercepted = g.probes.some((r) => r.reason === 'TLS_INTERCEPTED');
    if (!intercepted && g.probes.some((r) => r.status === 'ok')) passed.push(g);
    else if (intercepted || !g.probes.every((r) => SILENT.has(r.status))) failed.push(g);
    else if (g.probes.some((r) => r.status === 'filtered' && alive.has(r.address ?? r.host))) failed.push(g);
    else silent.push(g);
  }
  const samples = new Set(considered.map((r) => r.address ?? r.host)).size;
  const okOf = (g: PortGroup): string => `${g.label} on ${new Set(g.probes.filter((r) => r.status === 'ok').map((r) => r.address ?? r.host)).size} of ${samples}`;
  const blameOf = (gs: PortGroup[]): ProbeResult[] =>
    gs.flatMap((g) => (g.probes.some((r) => r.reason === 'TLS_INTERCEPTED') ? g.probes.filter((r) => r.reason === 'TLS_INTERCEPTED') : g.probes.filter((r) => r.status !== 'ok')));
  const none = (gs: PortGroup[]): string => gs.map(describeGroup).join('; ');
  if (failed.length === 0 && silent.length === 0) {
    return {
      verdict: 'pass',
      reason: passed.length === 1 ? `${passed[0]!.probes.filter((r) => r.status === 'ok').length} of ${passed[0]!.probes.length} sampled probes answered` : `every port answered on at least one of ${samples} sampled addresses (${passed.map(okOf).join(', ')})`,
      blame: [],
    };
  }
  if (failed.length && passed.length) {
    return { verdict: 'partial', reason: `not through on any of ${samples} sampled addresses: ${none(failed)}; answered: ${passed.map(okOf).join(', ')}`, blame: blameOf(failed) };
  }
  if (failed.length) return { verdict: 'fail', reason: `none of ${samples} sampled addresses got through: ${none([...failed, ...silent])}`, blame: blameOf([...failed, ...silent]) };
  return {
    verdict: 'inconclusive',
    reason: passed.length
      ? `no answer on any of ${samples} sampled addresses: ${none(silent)} (UDP silence is open or filtered, not proof); answered: ${passed.map(okOf).join(', ')}`
      : `none of ${considered.length} sampled probes answered (${describeCounts(countStatuses(considered))}); silence from an address in a range may mean a firewall drop or simply no host there`,
    blame: blameOf(silent),
  };
}

/**
 * The verdict of a line, leaving out probes this host could not send (`local`: out of file
 * descriptors). Those say nothing about the network: a line that would pass only because they
 * were left out is inconclusive, and one with nothing else is not checked.
 */
function withLocalFailures(rs: ProbeResult[], policy: 'all' | 'any', intercepted: boolean): ReturnType<typeof lineVerdict> {
  const local = rs.filter((r) => r.local);
  if (local.length === 0) return lineVerdict(rs, policy, intercepted);
  const why = `${local.length} probe(s) could not be sent: this host ran out of file descriptors`;
  const measured = rs.filter((r) => !r.local);
  if (measured.length === 0) return { verdict: 'inconclusive', reason: `not checked: ${why}`, blame: [] };
  const v = lineVerdict(measured, policy, intercepted);
  if (v.verdict === 'pass' && policy === 'all') return { verdict: 'inconclusive', reason: `${v.reason}, but ${why}`, blame: local };
  return { ...v, reason: `${v.reason}; ${why}` };
}

type FailClass = 'silent-udp' | 'dropped' | 'refused' | 'unreachable' | 'other';

function failClass(s: Status): FailClass {
  return s === 'open|filtered' ? 'silent-udp' : s === 'filtered' ? 'dropped' : s === 'refused' ? 'refused' : s === 'unreachable' ? 'unreachable' : 'other';
}

/**
 * What an IT admin should do about a line that did not pass. `blame` narrows the advice to the
 * probes that kept it from passing (a sampled range's port that got through needs no rule).
 */
export function remediation(pl: PlanLine, rs: ProbeResult[], verdict: Verdict, blame?: ProbeResult[]): string | undefined {
  if (verdict === 'pass') return undefined;
  const what = `${pl.def.description}`;
  const bad = (blame ?? rs).filter((r) => r.status !== 'ok' && r.status !== 'skipped');
  if (bad.length === 0) {
    const skipped = rs.find((r) => r.status === 'skipped');
    return skipped ? `Not checked: ${skipped.detail ?? skipped.reason}.` : undefined;
  }
  const parts: string[] = [];
  const handled = new Set<ProbeResult>();
  // A resolver that answers with addresses the vendor does not publish: a DNS filter's block page,
  // or a name that moved. Address rules built from the document would not let that traffic through.
  const drift = bad.filter((r) => r.reason === 'DNS_DRIFT');
  if (drift.length) {
    for (const r of drift) handled.add(r);
    const names = drift.map((r) => `${r.host} → ${((r.data?.drift as string[] | undefined) ?? []).join(', ')}`).join('; ');
    parts.push(
      `${resolverText(drift[0]!)} answers with addresses the document does not publish for ${what} (${names}): a DNS filter or block page may be answering in the vendor's place; check the DNS servers in use and any DNS filtering, or ask the vendor whether these addresses are theirs.`,
    );
  }
  // A name that does not resolve is a DNS finding whatever kind of probe needed it.
  const unresolved = bad.filter((r) => !handled.has(r) && (r.kind === 'dns' || isResolveFailure(r)));
  if (unresolved.length) {
    for (const r of unresolved) handled.add(r);
    const byName = new Map<string, Set<string>>();
    for (const r of unresolved) byName.set(r.host, (byName.get(r.host) ?? new Set()).add(r.reason));
    const names = [...byName].map(([h, reasons]) => `${h} (${[...reasons].join(', ')})`).join(', ');
    parts.push(`${names} ${byName.size === 1 ? 'does' : 'do'} not resolve with ${resolverText(unresolved[0]!)}: check the DNS servers in use and any DNS filtering.`);
  }
  // Path-MTU black holes and where traces stop (issue 17): their own advice.
  const path = pathRemediation(bad.filter((r) => !handled.has(r)), what);
  for (const r of path.handled) handled.add(r);
  const stalled = bad.filter((r) => !handled.has(r) && r.status === 'timeout');
  if (stalled.length) {
    for (const r of stalled) handled.add(r);
    parts.push(`Connections to ${[...new Set(stalled.map((r) => hostPort(r.host, r.port)))].slice(0, 6).join(', ')} open but then stall: look for a proxy, DPI or IPS device interfering with ${what}.`);
  }
  // Interception, proxy refusals, block pages, bad revocation answers: their own advice (issue 4).
  const trust = trustRemediation(bad.filter((r) => !handled.has(r)), what);
  parts.push(...trust.parts, ...path.parts);
  for (const r of trust.handled) handled.add(r);
  // Group the rest by how they failed, protocol and destination → ports, then by identical port sets.
  // Per destination only what the advice needs (its ports, whether every failure was local, its
  // first two distinct reasons), and no key string per result: a swept /16 has 57,000 refused
  // destinations, and a list of results, a port set and keys per destination were ~90 MB of
  // garbage in building its report (issue 14).
  const classes = new Map<string, Map<string, DestGroup>>();
  const order: DestGroup[] = [];
  for (const r of bad) {
    if (handled.has(r) || r.port === undefined) continue;
    const how = failClass(r.status);
    const proto = protocolOf(r.kind) === 'udp' ? 'UDP' : 'TCP';
    const classKey = how + proto;
    let byHost = classes.get(classKey);
    if (!byHost) classes.set(classKey, (byHost = new Map()));
    const g = byHost.get(r.host);
    if (!g) {
      const ng: DestGroup = { how, proto, host: r.host, ports: r.port, local: LOCAL_REASONS.has(r.reason), reasons: [r] };
      byHost.set(r.host, ng);
      order.push(ng);
      continue;
    }
    if (typeof g.ports === 'number') g.ports = [g.ports, r.port];
    else g.ports.push(r.port);
    g.local &&= LOCAL_REASONS.has(r.reason);
    addWhy(g.reasons, r);
  }
  const byPorts = new Map<string, { how: FailClass; proto: string; ports: string; hosts: string[]; local: boolean; reasons: Why[] }>();
  let last: { how: FailClass; proto: string; ports: string; hosts: string[]; local: boolean; reasons: Why[] } | undefined;
  for (const g of order) {
    const ports = typeof g.ports === 'number' ? String(g.ports) : formatPorts(g.ports);
    // Destinations of a sweep come in runs with the same failure and ports: no key to build then.
    let e = last && last.how === g.how && last.proto === g.proto && last.ports === ports ? last : byPorts.get(`${g.how} ${g.proto} ${ports}`);
    if (!e) {
      e = { how: g.how, proto: g.proto, ports, hosts: [], local: true, reasons: [] };
      byPorts.set(`${g.how} ${g.proto} ${ports}`, e);
    }
    last = e;
    e.hosts.push(g.host);
    e.local &&= g.local;
    // The first two distinct reasons of the whole are among the first two of each part.
    for (const w of g.reasons) addWhy(e.reasons, w);
  }
  const sampled = pl.sampling.length ? pl.sampling.map((s) => s.cidr) : undefined;
  const label = `${what}${pl.def.role ? `, ${pl.def.role.replace('-', ' ')}` : ''}`;
  for (const e of byPorts.values()) {
    const hosts = (sampled ?? e.hosts).join(', ');
    const rule = `outbound ${e.proto} ${e.ports} to ${hosts} (${label})`;
    const local = e.local;
    const reasons = e.reasons.map((w) => (w.detail ? `${w.reason}: ${w.detail}` : w.reason)).join('; ');
    parts.push(
      e.how === 'silent-udp'
        ? `Confirm that ${rule} is allowed: UDP silence cannot prove it; check the firewall log for drops, or test against a netcheck reflector.`
        : e.how === 'dropped'
          ? `Allow ${rule}: connection attempts are silently dropped.`
          : e.how === 'refused'
            ? `Allow ${rule}: it is actively refused (${e.proto === 'UDP' ? 'ICMP port unreachable' : 'TCP reset'}) by a firewall, or nothing listens there; if your firewall already allows it, ask the vendor.`
            : e.how === 'unreachable'
              ? `Allow ${rule}: it is rejected with ICMP unreachable (a firewall reject rule, or no route).`
              : local
                ? `Check ${rule} again: the probe failed on this host, not on the network (${reasons}).`
                : `Check ${rule}: ${reasons}.`,
    );
  }
  parts.push(...path.hints);
  return parts.join(' ');
}

/** One destination's failures of one class and protocol, for {@link remediation}. */
interface DestGroup {
  how: FailClass;
  proto: string;
  host: string;
  ports: number | number[];
  local: boolean;
  reasons: Why[];
}

/** A reason and its detail, as remediation quotes them. */
interface Why {
  reason: string;
  detail?: string | undefined;
}

/** Keep the first two distinct reasons (with their detail) seen. */
function addWhy(list: Why[], w: Why): void {
  if (list.length >= 2) return;
  for (const x of list) if (x.reason === w.reason && (x.detail || '') === (w.detail || '')) return;
  list.push(w);
}

function stableReason(r: ProbeResult): ProbeResult {
  if (isStableReason(r.reason)) return r;
  return { ...r, reason: 'UNCLASSIFIED', detail: `${r.detail ?? 'no detail'} (code ${r.reason || 'none'})`, data: { ...r.data, rawReason: r.reason } };
}

/** Assemble the Report. */
export function buildReport(input: BuildInput): Report {
  const { plan } = input;
  // Reports carry only the reason codes of src/probers/reasons.ts (listed in the README): a code
  // that slipped through from a library or the OS becomes `UNCLASSIFIED`, the original kept.
  const results = input.results.map(stableReason);
  const control = input.control && stableReason(input.control);
  const byLine = new Map<string, ProbeResult[]>();
  for (const r of results) {
    // Push, not copy: a 4,096-address sweep is one line.
    const list = byLine.get(r.line);
    if (list) list.push(r);
    else byLine.set(r.line, [r]);
  }
  const controlConnected = control?.status === 'ok';

  // Lines `--only` left out were not run: listed as such, never counted as inconclusive.
  const ran = plan.lines.filter((pl) => !pl.notRun);
  const notRun = plan.lines.filter((pl) => pl.notRun).map((pl) => ({ id: pl.id, reason: pl.notRun! }));
  const lines: LineResult[] = ran.map((pl) => {
    const rs = byLine.get(pl.id) ?? [];
    const policy = pl.def.expect ?? (pl.sampling.some((s) => s.strategy !== 'all') ? 'any' : 'all');
    const { verdict, reason: baseReason, blame } =
      rs.length === 0 && input.interrupted
        ? { verdict: 'inconclusive' as Verdict, reason: 'not checked: the run was interrupted first', blame: [] }
        : withLocalFailures(rs, policy, controlConnected);
    const rem = remediation(pl, rs, verdict, blame);
    // DNS drift: the name resolves, but not (only) to what the document pairs it with; an
    // address-based firewall built from the document would not let that traffic through.
    const drift = rs.filter((r) => r.reason === 'DNS_DRIFT').map((r) => `${r.host} → ${((r.data?.drift as string[] | undefined) ?? []).join(', ')}`);
    const driftReason = drift.length ? `${baseReason}; DNS drift: ${drift.join('; ')} (outside the document's addresses)` : baseReason;
    // Where it failed (traces), and how well voice flows (media figures): issue 17.
    const extra = [verdict === 'pass' ? undefined : pathReason(rs), mediaReason(rs)].filter(Boolean);
    const reason = extra.length ? `${driftReason}; ${extra.join('; ')}` : driftReason;
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
      ...(pl.def.quote ? { quote: pl.def.quote } : {}),
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

  const diagnoses = [...diagnose(results, { ...input, ...(control ? { control } : {}) }), ...fdDiagnoses(input.fdShortage)];
  // "Ask your network team to allow" (issue 16): from the finished verdicts, so it follows them.
  const fixList = buildFixList(plan, lines, results, timers);
  const sectionIds = new Set(ran.map((l) => l.section.id));
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'netcheck', version: input.version },
    catalog: {
      id: plan.catalog.id,
      title: plan.catalog.title,
      sources: [...new Set([plan.catalog.source, ...plan.catalog.sections.map((s) => s.source).filter((s): s is string => !!s)])],
      ...(input.catalogFile ? { file: input.catalogFile } : {}),
      ...(plan.catalog.document ? { document: { file: plan.catalog.source, ...plan.catalog.document } } : {}),
    },
    parameters: plan.params,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    interrupted: input.interrupted,
    diagnoses,
    ...(control ? { control: { target: hostPort(control.host, control.port), status: control.status, reason: control.reason } } : {}),
    summary,
    sections: plan.catalog.sections
      .filter((s) => sectionIds.has(s.id))
      .map((s) => ({
        id: s.id,
        name: s.name,
        ...(s.description ? { description: s.description } : {}),
        source: s.source ?? plan.catalog.source,
        lines: ran.filter((l) => l.section.id === s.id).map((l) => l.id),
      })),
    lines,
    probes: results,
    ...(plan.notApplicable.length ? { notApplicable: plan.notApplicable } : {}),
    ...(notRun.length ? { notRun } : {}),
    ...(plan.catalog.timers?.length
      ? { timers }
      : {}),
    ...(fixList ? { fixList } : {}),
  };
}

/** Distinct destinations whose TCP silence it takes before a run is said to have no connectivity at all. */
export const DEAD_PATH_MIN_DESTINATIONS = 3;

/**
 * Positive evidence that nothing gets out: every TCP connection attempt (to at least
 * {@link DEAD_PATH_MIN_DESTINATIONS} destinations) was dropped or rejected as unreachable, and no
 * probe of any kind got an answer (a reply, a handshake, even a reset or an ICMP port unreachable
 * proves packets go out and come back). UDP silence (open|filtered by definition), names that do
 * not resolve and failures of this host (out of file descriptors, …) are not evidence either way.
 */
export function deadPathEvidence(results: ProbeResult[]): { probes: ProbeResult[]; destinations: number } | undefined {
  // Idle-timer statuses speak of timers (a flow forgotten), not of reachability.
  const network = results.filter((r) => r.status !== 'skipped' && !r.internal && !r.local && !TIMER_KINDS.has(r.kind));
  // Media below its quality thresholds still got packets through (issue 17).
  if (network.some((r) => r.status === 'ok' || r.status === 'refused' || (r.kind === 'media' && Number(r.data?.received) > 0))) return undefined;
  const tcp = network.filter((r) => r.kind !== 'dns' && r.port !== undefined && protocolOf(r.kind) === 'tcp' && !isResolveFailure(r) && !LOCAL_REASONS.has(r.reason));
  if (tcp.length === 0 || !tcp.every((r) => r.status === 'filtered' || r.status === 'unreachable')) return undefined;
  const destinations = new Set(tcp.map((r) => r.address ?? r.host)).size;
  return destinations >= DEAD_PATH_MIN_DESTINATIONS ? { probes: tcp, destinations } : undefined;
}

function diagnose(results: ProbeResult[], input: BuildInput): Diagnosis[] {
  const out: Diagnosis[] = [];
  if (input.interrupted) {
    out.push({ code: 'INTERRUPTED', severity: 'warning', message: `interrupted: ${results.length} of ${input.plan.probes.length} probes finished; lines without results are inconclusive` });
  }
  const dead = deadPathEvidence(results);
  if (dead) {
    const { probes, destinations } = dead;
    const allNoRoute = probes.every((r) => r.reason === 'ENETUNREACH');
    out.push({
      code: 'NO_OUTBOUND_CONNECTIVITY',
      severity: 'critical',
      message: allNoRoute
        ? `no outbound connectivity: this host has no route to any of the ${destinations} destinations tried (${probes.length} TCP probes: ${describeCounts(countStatuses(probes))}); check the network connection and default route before reading the lines below`
        : `no outbound connectivity: every TCP connection to ${destinations} different destinations went unanswered or was rejected as unreachable (${describeCounts(countStatuses(probes))}), and nothing else answered; check the network connection, the default route, and whether a proxy is required, before reading the lines below`,
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
