/**
 * `GET /probe`: blackbox_exporter's pattern (issue 16). Prometheus decides when to check what —
 * scheduling, retries, a fleet of sites, alerting through Alertmanager — and each scrape runs one
 * documented line now, within the scrape's own timeout, answering with that check's metrics:
 *
 * - `/probe?catalog=eschat&line=signaling` — a line of a catalog the daemon was started with;
 * - `/probe?catalog=eschat&line=apns&target=17.57.146.20:5223` — that line's checks against one
 *   address (its ports unless the target names one), e.g. each address of a range, by relabelling;
 * - `/probe?kind=tcp&target=10.0.0.5:443` — an ad-hoc check, like `netcheck probe`.
 *
 * Like blackbox, the deadline comes from Prometheus' `X-Prometheus-Scrape-Timeout-Seconds` header
 * minus an offset, so the answer arrives before Prometheus gives up; every probe of the line gets
 * at most that, and whatever is still running then is cut. Metric names are blackbox's where the
 * meaning is the same (`probe_success`, `probe_duration_seconds`, `probe_http_status_code`, …);
 * what only netcheck knows is `probe_netcheck_*`. Labels come from the catalog (kind, planned
 * target), never from run-time values, so series stay bounded.
 */
import { isIP } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { Plan, PlanLine } from '../catalog/expand.js';
import { isHostname } from '../catalog/load.js';
import { CATALOG_SCHEMA_ID, type CatalogDef } from '../catalog/schema.js';
import { DEFAULTS } from '../constants.js';
import { KIND_LIST, KINDS, kindOf, LONG_KINDS } from '../probers/index.js';
import { runCheck as realRunCheck, type CheckOptions } from '../engine/check.js';
import { redactReport } from '../report/redact.js';
import { STATUSES, type ProbeResult, type ProbeSpec, type Report, type Verdict } from '../types.js';
import { hostPort } from '../util/ip.js';

/** Kinds a scrape can run: not the ones that hold a connection for minutes (idle timers, ws-hold). */
const SCRAPE_KINDS: ReadonlySet<string> = new Set(KINDS.filter((k) => !LONG_KINDS.has(k)));
/** Kinds an ad-hoc `kind=` may name (the URL kinds need a catalog line; ip-list sends nothing). */
const ADHOC_KINDS = KIND_LIST.filter((k) => SCRAPE_KINDS.has(k.name) && (k.target === 'host:port' || k.target === 'host')).map((k) => k.name);
const VERDICTS: Verdict[] = ['pass', 'fail', 'partial', 'inconclusive'];

/** A catalog the daemon checks: its id and its plan. */
export interface DaemonTarget {
  id: string;
  plan: Plan;
}

export interface ProbeEndpointOptions {
  targets: DaemonTarget[];
  /** Engine options of the daemon's runs (DNS servers, proxy, …); `control` is not used per scrape. */
  check: Omit<CheckOptions, 'stopSignal' | 'hardSignal'>;
  /** The daemon is stopping: no new probe starts. */
  stopSignal: AbortSignal;
  /** The daemon is stopping now: cancel probes in flight. */
  hardSignal: AbortSignal;
  redact?: boolean;
  /** Scrapes answered at once; more get 503 (default 16). */
  maxInFlight?: number;
  /** Subtracted from the scrape timeout, as blackbox's --timeout-offset (default 500 ms). */
  timeoutOffsetMs?: number;
  /** Deadline when a request carries no scrape timeout (curl, a browser): Prometheus' default 10 s. */
  defaultTimeoutMs?: number;
  /** Per-probe deadline of ad-hoc checks (`--timeout`; default 3 s), before the scrape's cap. */
  adhocTimeoutMs?: number;
  runCheck?: (plan: Plan, opts: CheckOptions) => Promise<Report>;
}

export interface ProbeAnswer {
  status: number;
  type: string;
  body: string;
}

const TEXT = 'text/plain; charset=utf-8';

class BadRequest extends Error {}

/** A host or host:port from `target=`: one address or name, never a range. */
function parseTarget(text: string): { host: string; port?: number } {
  const br = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const m = br ?? (isIP(text) === 6 ? [text, text] : /^([^:/\s]+)(?::(\d+))?$/.exec(text));
  const host = m?.[1];
  if (!m || !host || (isIP(host) === 0 && !isHostname(host))) {
    throw new BadRequest(`target '${text}': use one address or name, with a port where the check needs one (e.g. target=10.0.0.5:443); ranges are probed one address per scrape`);
  }
  const port = m[2] !== undefined ? Number(m[2]) : undefined;
  if (port !== undefined && !(port >= 1 && port <= 65535)) throw new BadRequest(`target '${text}': port ${m[2]} is not a port (1-65535)`);
  return { host, ...(port !== undefined ? { port } : {}) };
}

/** The probes of one scrape, and the one-line plan they belong to. */
function scrapePlan(q: URLSearchParams, targets: DaemonTarget[], adhocTimeoutMs: number): Plan {
  const catalogId = q.get('catalog');
  const lineId = q.get('line');
  const target = q.get('target');
  if (catalogId !== null) {
    const t = targets.find((x) => x.id === catalogId);
    if (!t) throw new BadRequest(`no catalog '${catalogId}' in this daemon; catalogs: ${targets.map((x) => x.id).join(', ')}`);
    if (!lineId) throw new BadRequest(`catalog=${catalogId} needs line=ID; lines: ${t.plan.lines.map((l) => l.id).join(', ')}`);
    const pl = t.plan.lines.find((l) => l.id === lineId);
    if (!pl) {
      const na = t.plan.notApplicable.find((n) => n.id === lineId);
      throw new BadRequest(na ? `line '${lineId}' does not apply with this daemon's parameters: ${na.reason}` : `catalog '${catalogId}' has no line '${lineId}'; lines: ${t.plan.lines.map((l) => l.id).join(', ')}`);
    }
    let specs = t.plan.probes.filter((p) => p.line === pl.id);
    const long = specs.find((p) => !SCRAPE_KINDS.has(p.kind));
    if (long) throw new BadRequest(`line '${lineId}' has a ${long.kind} check, which lasts minutes: longer than any scrape; the daemon's own schedule (--every) runs it`);
    if (target !== null) specs = retarget(specs, pl, parseTarget(target));
    return { ...t.plan, lines: [pl], probes: specs, notApplicable: [] };
  }
  if (lineId !== null) throw new BadRequest('line= needs catalog=NAME as well');
  if (target === null) throw new BadRequest(`/probe needs catalog=NAME&line=ID, or kind=KIND&target=HOST:PORT (kinds: ${ADHOC_KINDS.join(', ')}); catalogs: ${targets.map((x) => x.id).join(', ')}`);
  return adhocPlan(q.get('kind') ?? 'tcp', parseTarget(target), adhocTimeoutMs);
}

/** A line's checks aimed at one target instead of the documented ones (its ports unless given). */
function retarget(specs: ProbeSpec[], pl: PlanLine, t: { host: string; port?: number }): ProbeSpec[] {
  const out = new Map<string, ProbeSpec>();
  for (const s of specs) {
    if (kindOf(s.kind)?.target === 'url' || kindOf(s.kind)?.target === 'list') throw new BadRequest(`line '${pl.id}' checks ${s.kind}, whose targets are URLs or lists: target= does not apply`);
    if (s.host === '-' || s.host.startsWith('$')) continue; // inbound or unset parameter: nothing to aim
    const port = s.kind === 'dns' ? undefined : (t.port ?? s.port);
    const id = `${pl.id}/${s.kind}/${s.kind === 'dns' ? t.host : hostPort(t.host, port)}`;
    out.set(id, { id, line: pl.id, kind: s.kind, host: t.host, ...(port !== undefined ? { port } : {}), options: s.options, timeoutMs: s.timeoutMs });
  }
  if (!out.size) throw new BadRequest(`line '${pl.id}' has no check that could be aimed at a target (inbound, or its parameters are not set)`);
  return [...out.values()];
}

/** `kind=…&target=…`: an ad-hoc check, as `netcheck probe` makes one. */
function adhocPlan(kind: string, t: { host: string; port?: number }, timeoutMs: number): Plan {
  if (!ADHOC_KINDS.includes(kind)) throw new BadRequest(`kind '${kind}' cannot be probed ad hoc; kinds: ${ADHOC_KINDS.join(', ')}`);
  if (kind !== 'dns' && t.port === undefined) throw new BadRequest(`kind=${kind} needs a port: target=${t.host}:PORT`);
  if (kind === 'dns' && isIP(t.host) !== 0) throw new BadRequest('kind=dns needs a name to resolve, not an address');
  const target = kind === 'dns' ? t.host : hostPort(t.host, t.port);
  const def: CatalogDef = {
    schema: CATALOG_SCHEMA_ID,
    id: 'adhoc',
    title: `ad-hoc ${kind} probe of ${target}`,
    source: '/probe',
    sections: [{ id: 'adhoc', name: `${kind} ${target}`, lines: [{ id: 'adhoc', description: `${kind} ${target}`, targets: [t.host], ...(t.port ? { ports: t.port } : {}), checks: [{ kind }] }] }],
  };
  const id = `adhoc/${kind}/${target}`;
  const section = def.sections[0]!;
  const pl: PlanLine = { id: 'adhoc', section, def: section.lines[0]!, probeIds: [id], sampling: [] };
  const spec: ProbeSpec = { id, line: 'adhoc', kind, host: t.host, ...(kind !== 'dns' ? { port: t.port! } : {}), options: {}, timeoutMs };
  return { catalog: def, file: '/probe', params: {}, lines: [pl], notApplicable: [], probes: [spec], skipped: new Map(), missingParams: [] };
}

/** The planned target of a probe as its id spells it (bounded by the catalog), for labels. */
function targetLabel(p: ProbeResult): string {
  const prefix = `${p.line}/${p.kind}/`;
  return p.id.startsWith(prefix) ? p.id.slice(prefix.length) : p.kind === 'dns' || p.port === undefined ? p.host : hostPort(p.host, p.port);
}

/** Milliseconds (0.1 ms resolution) as seconds, without binary-fraction noise (0.0118000000001). */
const seconds = (ms: number): number => Math.round(ms * 10) / 10_000;

/** The scrape's answer: blackbox's metrics where they mean the same, netcheck's own beside them. */
async function metricsOf(report: Report, deadlineMs: number): Promise<string> {
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []): Gauge<string> => new Gauge({ name, help, labelNames, registers: [registry] });
  const line = report.lines[0];
  // Probes the scrape's deadline cut (or never started) proved nothing: a line judged on the rest
  // could pass while a blocked port went untried, so the verdict is inconclusive then.
  const cut = report.interrupted || report.probes.some((p) => p.reason === 'INTERRUPTED');
  const verdict: Verdict = cut ? 'inconclusive' : (line?.verdict ?? 'inconclusive');
  gauge('probe_netcheck_cut', 'Whether the scrape timeout cut probes short (1), so the line could not be judged.').set(cut ? 1 : 0);
  gauge('probe_success', 'Whether the documented line passed: every probe saw what the document requires (1), or not (0; also when inconclusive).').set(verdict === 'pass' ? 1 : 0);
  gauge('probe_duration_seconds', 'How long the probe took to complete in seconds.').set(seconds(report.durationMs));
  const v = gauge('probe_netcheck_line_verdict', "The line's verdict: 1 for the one it has, 0 for the others.", ['verdict']);
  for (const x of VERDICTS) v.set({ verdict: x }, x === verdict ? 1 : 0);
  gauge('probe_netcheck_line_required', 'Whether the document requires the line (1) or marks it optional (0).').set(line?.required === false ? 0 : 1);
  gauge('probe_netcheck_deadline_seconds', 'Deadline each probe of this scrape had (the scrape timeout minus the offset, or the configured timeout if shorter).').set(deadlineMs / 1000);
  const counts = gauge('probe_netcheck_probes', 'Probes of the line by status.', ['status']);
  for (const s of STATUSES) counts.set({ status: s }, report.probes.filter((p) => p.status === s).length);
  const ok = gauge('probe_netcheck_probe_success', 'Whether each probe saw the expected behaviour (1) or not (0); skipped probes are absent.', ['kind', 'target']);
  const dur = gauge('probe_netcheck_probe_duration_seconds', 'How long each probe took.', ['kind', 'target']);
  for (const p of report.probes) {
    if (p.status === 'skipped') continue;
    const l = { kind: p.kind, target: targetLabel(p) };
    ok.set(l, p.status === 'ok' ? 1 : 0);
    dur.set(l, seconds(p.durationMs));
  }
  const sent = report.probes.filter((p) => p.status !== 'skipped');
  // blackbox's per-check metrics, when one probe is what they would describe.
  if (sent.length === 1 && sent[0]!.address && isIP(sent[0]!.address)) gauge('probe_ip_protocol', 'Specifies whether probe ip protocol is IP4 or IP6.').set(isIP(sent[0]!.address));
  const http = sent.filter((p) => p.kind === 'http');
  if (http.length === 1) {
    const h = http[0]!;
    if (typeof h.data?.httpStatus === 'number') gauge('probe_http_status_code', 'Response HTTP status code.').set(h.data.httpStatus);
    const phases = gauge('probe_http_duration_seconds', 'Duration of http request by phase, summed over all redirects.', ['phase']);
    const ph = h.phases ?? {};
    for (const [phase, ms] of [['resolve', ph.resolveMs], ['connect', ph.connectMs], ['tls', ph.tlsMs], ['processing', ph.firstByteMs], ['transfer', ph.transferMs]] as const) {
      phases.set({ phase }, seconds(ms ?? 0));
    }
  }
  const resolved = sent.map((p) => p.phases?.resolveMs).filter((x): x is number => typeof x === 'number');
  if (resolved.length) gauge('probe_dns_lookup_time_seconds', 'Returns the time taken for probe dns lookup in seconds.').set(seconds(Math.max(...resolved)));
  return registry.metrics();
}

/** Handles `/probe` requests for the daemon's HTTP server. */
export class ProbeEndpoint {
  private inFlight = 0;

  constructor(private readonly o: ProbeEndpointOptions) {}

  async handle(query: URLSearchParams, headers: Record<string, string | string[] | undefined>): Promise<ProbeAnswer> {
    let plan: Plan;
    try {
      plan = scrapePlan(query, this.o.targets, this.o.adhocTimeoutMs ?? DEFAULTS.timeoutMs);
    } catch (err) {
      if (err instanceof BadRequest) return { status: 400, type: TEXT, body: `${err.message}\n` };
      throw err;
    }
    if (this.o.stopSignal.aborted) return { status: 503, type: TEXT, body: 'the daemon is stopping\n' };
    if (this.inFlight >= (this.o.maxInFlight ?? 16)) return { status: 503, type: TEXT, body: `${this.inFlight} probes already in flight; try again\n` };

    // The deadline: what Prometheus will wait, minus the offset for answering (blackbox's rule).
    const header = Number(String(headers['x-prometheus-scrape-timeout-seconds'] ?? ''));
    const scrapeMs = Number.isFinite(header) && header > 0 ? header * 1000 : (this.o.defaultTimeoutMs ?? 10_000);
    const budgetMs = Math.max(100, scrapeMs - (this.o.timeoutOffsetMs ?? 500));
    // Each probe's own deadline comes first (so silence is judged as silence); the cut at the end
    // of the budget only catches probes that waited for a turn.
    const probeMs = Math.max(50, Math.floor(budgetMs * 0.9));
    const deadlineMs = Math.min(probeMs, ...plan.probes.map((p) => p.timeoutMs));
    const probes = plan.probes.map((p) => (p.timeoutMs > probeMs ? { ...p, timeoutMs: probeMs } : p));

    // Whatever still runs at the end of the budget is cut, so the answer is never late.
    const cut = new AbortController();
    const onHard = (): void => cut.abort();
    this.o.hardSignal.addEventListener('abort', onHard, { once: true });
    const timer = setTimeout(() => cut.abort(), budgetMs);
    this.inFlight++;
    try {
      const run = this.o.runCheck ?? realRunCheck;
      const full = await run(
        { ...plan, probes },
        {
          ...this.o.check,
          control: false,
          // Neither the daemon's stop nor the cut lets another probe start.
          stopSignal: AbortSignal.any([this.o.stopSignal, cut.signal]),
          hardSignal: cut.signal,
          // UDP rechecks only where they can finish inside the budget.
          udpRecheckBudgetMs: Math.max(0, budgetMs - deadlineMs - 100),
        },
      );
      const report = this.o.redact ? redactReport(full) : full;
      return { status: 200, type: 'text/plain; version=0.0.4; charset=utf-8', body: await metricsOf(report, deadlineMs) };
    } finally {
      this.inFlight--;
      clearTimeout(timer);
      this.o.hardSignal.removeEventListener('abort', onHard);
    }
  }
}
