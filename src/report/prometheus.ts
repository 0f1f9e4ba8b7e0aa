/**
 * Reports as Prometheus metrics, named the way blackbox_exporter names its own
 * (`probe_success`, `probe_duration_seconds`) under a `netcheck_` prefix, so alerting rules and
 * dashboards written for blackbox read naturally.
 *
 * Label cardinality is bounded by the catalog: labels are the catalog id, line id, section, probe
 * kind, target (`host:port`, name or URL as planned), status and verdict (closed sets), and diagnosis codes
 * (a closed set). Never error text, addresses learned at run time, timestamps or reasons: those
 * would grow without limit and belong in the JSON report (`/report`).
 */
import { Gauge, Registry } from 'prom-client';
import type { Diagnosis, Report, Verdict } from '../types.js';
import { STATUSES } from '../types.js';
import { hostPort } from '../util/ip.js';
import { MediaMetrics } from './media-metrics.js';

const VERDICTS: Verdict[] = ['pass', 'fail', 'partial', 'inconclusive'];
const DIAGNOSIS_CODES: Diagnosis['code'][] = ['NO_OUTBOUND_CONNECTIVITY', 'TCP_INTERCEPTION', 'INTERRUPTED', 'DNS_BROKEN', 'CAPTIVE_PORTAL', 'DNS_INTERCEPTION', 'FD_EXHAUSTED'];

type Labels = Record<string, string>;

/** The per-report gauges, registered in one registry; `update` replaces one catalog's series. */
export class ReportMetrics {
  private readonly g: Record<string, Gauge<string>>;
  /** Series set for each catalog by the last update, so series that vanished are removed. */
  private readonly seen = new Map<string, Map<Gauge<string>, Labels[]>>();
  /** Media quality and NAT behaviour (issue 17). */
  private readonly media: MediaMetrics;

  constructor(readonly registry: Registry) {
    this.media = new MediaMetrics(registry);
    const gauge = (name: string, help: string, labelNames: string[]): Gauge<string> => new Gauge({ name, help, labelNames, registers: [registry] });
    this.g = {
      probeSuccess: gauge('netcheck_probe_success', 'Whether the probe saw the expected behaviour (1) or not (0), like blackbox_exporter probe_success.', ['catalog', 'line', 'kind', 'target']),
      probeDuration: gauge('netcheck_probe_duration_seconds', 'How long the probe took, retries included.', ['catalog', 'line', 'kind', 'target']),
      lineVerdict: gauge('netcheck_line_verdict', 'Verdict of each documented line: 1 for the verdict it has, 0 for the others.', ['catalog', 'section', 'line', 'required', 'verdict']),
      lineProbes: gauge('netcheck_line_probes', 'Probes of each documented line by status.', ['catalog', 'line', 'status']),
      runDuration: gauge('netcheck_run_duration_seconds', 'Duration of the last completed run of the catalog.', ['catalog']),
      lastRun: gauge('netcheck_last_run_timestamp_seconds', 'When the last completed run of the catalog finished (Unix time).', ['catalog']),
      requiredFailing: gauge('netcheck_required_lines_failing', 'Required lines whose verdict is fail or partial in the last run.', ['catalog']),
      requiredInconclusive: gauge('netcheck_required_lines_inconclusive', 'Required lines whose verdict is inconclusive in the last run.', ['catalog']),
      lines: gauge('netcheck_lines', 'Documented lines by verdict in the last run.', ['catalog', 'verdict']),
      diagnosis: gauge('netcheck_diagnosis', 'Run-level findings that must be read first (1 when present).', ['catalog', 'code']),
      interrupted: gauge('netcheck_run_interrupted', 'Whether the last run was interrupted before every probe finished.', ['catalog']),
      timerVerdict: gauge('netcheck_idle_timer_verdict', 'Verdict of each measured idle timer of the document: 1 for the verdict it has, 0 for the others.', ['catalog', 'timer', 'protocol', 'verdict']),
      timerRequired: gauge('netcheck_idle_timer_required_seconds', 'Idle time a flow must survive, as checked (after any --timer-scale).', ['catalog', 'timer', 'protocol']),
      timerSurvived: gauge('netcheck_idle_timer_longest_survived_seconds', 'Longest idle gap a flow survived on this path.', ['catalog', 'timer', 'protocol']),
      timerLost: gauge('netcheck_idle_timer_shortest_lost_seconds', 'Shortest idle gap after which a flow was lost on this path.', ['catalog', 'timer', 'protocol']),
    };
  }

  /** Replace the series of `report.catalog.id` with those of this report. */
  update(report: Report): void {
    const catalog = report.catalog.id;
    const now = new Map<Gauge<string>, Labels[]>();
    const set = (g: Gauge<string>, labels: Labels, v: number): void => {
      g.set(labels, v);
      const list = now.get(g) ?? [];
      list.push(labels);
      now.set(g, list);
    };
    for (const p of report.probes) {
      // A probe not sent (skipped) has no success and no duration: absent, not 0.
      if (p.status === 'skipped') continue;
      // The planned target as the probe id spells it (`host:port`, a DNS name, a URL): unique within
      // a line and kind, so two probes never share (and overwrite) one series.
      const prefix = `${p.line}/${p.kind}/`;
      const target = p.id.startsWith(prefix) ? p.id.slice(prefix.length) : p.kind === 'dns' || p.port === undefined ? p.host : hostPort(p.host, p.port);
      const l = { catalog, line: p.line, kind: p.kind, target };
      set(this.g.probeSuccess!, l, p.status === 'ok' ? 1 : 0);
      // durationMs has 0.1 ms resolution; keep it, without binary-fraction noise (0.011699999…).
      set(this.g.probeDuration!, l, Math.round(p.durationMs * 10) / 10_000);
    }
    for (const line of report.lines) {
      for (const v of VERDICTS) set(this.g.lineVerdict!, { catalog, section: line.section, line: line.id, required: String(line.required), verdict: v }, line.verdict === v ? 1 : 0);
      for (const s of STATUSES) {
        const n = line.counts[s];
        if (n) set(this.g.lineProbes!, { catalog, line: line.id, status: s }, n);
      }
    }
    set(this.g.runDuration!, { catalog }, report.durationMs / 1000);
    set(this.g.lastRun!, { catalog }, Date.parse(report.finishedAt) / 1000);
    set(this.g.requiredFailing!, { catalog }, report.summary.requiredFailing);
    set(this.g.requiredInconclusive!, { catalog }, report.summary.requiredInconclusive);
    for (const v of VERDICTS) set(this.g.lines!, { catalog, verdict: v }, report.summary.verdicts[v] ?? 0);
    for (const code of DIAGNOSIS_CODES) set(this.g.diagnosis!, { catalog, code }, report.diagnoses.some((d) => d.code === code) ? 1 : 0);
    set(this.g.interrupted!, { catalog }, report.interrupted ? 1 : 0);
    for (const t of report.timers ?? []) {
      // Only measured timers: an unmeasured one has no verdict (absent, not 0).
      const r = t as unknown as { checked?: boolean; verdict?: Verdict; requireMs?: number; bracket?: { longestSurvivedMs?: number; shortestLostMs?: number } };
      if (!r.checked || !r.verdict) continue;
      const tl = { catalog, timer: t.id, protocol: t.protocol };
      for (const v of VERDICTS) set(this.g.timerVerdict!, { ...tl, verdict: v }, r.verdict === v ? 1 : 0);
      if (typeof r.requireMs === 'number') set(this.g.timerRequired!, tl, r.requireMs / 1000);
      if (typeof r.bracket?.longestSurvivedMs === 'number') set(this.g.timerSurvived!, tl, r.bracket.longestSurvivedMs / 1000);
      if (typeof r.bracket?.shortestLostMs === 'number') set(this.g.timerLost!, tl, r.bracket.shortestLostMs / 1000);
    }

    this.media.update(report, set);

    // Remove series the previous run of this catalog had and this one does not.
    const before = this.seen.get(catalog);
    if (before) {
      for (const [g, list] of before) {
        const keep = new Set((now.get(g) ?? []).map((l) => JSON.stringify(l)));
        for (const l of list) if (!keep.has(JSON.stringify(l))) g.remove(l);
      }
    }
    this.seen.set(catalog, now);
  }
}

/** netcheck_build_info, as exporters conventionally expose their version. */
export function registerBuildInfo(registry: Registry, version: string): void {
  const g = new Gauge({ name: 'netcheck_build_info', help: 'netcheck version that produced these metrics (always 1).', labelNames: ['version'], registers: [registry] });
  g.set({ version }, 1);
}

/**
 * The metrics of one or more reports in the Prometheus text format: what `--prometheus-textfile`
 * writes for node_exporter's textfile collector (no timestamps, as that collector requires).
 */
export async function reportsToPrometheusText(reports: Report[]): Promise<string> {
  const registry = new Registry();
  registerBuildInfo(registry, reports[0]?.tool.version ?? 'unknown');
  const m = new ReportMetrics(registry);
  for (const r of reports) m.update(r);
  return registry.metrics();
}
