/**
 * `netcheck daemon`: scheduled checks for fleets, Prometheus-first.
 *
 * One loop runs the catalogs one after another, so runs never overlap; the next run is scheduled
 * on an absolute grid (start + k × every, plus jitter), and slots missed because a run overran
 * are skipped, not queued. Each finished report updates the metrics, is kept on disk (bounded),
 * and is compared with the previous one to notify a webhook of verdict changes. A run that throws,
 * a report folder that cannot be written and a webhook that hangs are each counted and logged;
 * none stops the loop or the metrics endpoint.
 */
import type { Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Plan } from '../catalog/expand.js';
import { runCheck as realRunCheck, type CheckOptions } from '../engine/check.js';
import { headline } from '../report/present.js';
import { ReportMetrics, registerBuildInfo, reportsToPrometheusText } from '../report/prometheus.js';
import { redactReport } from '../report/redact.js';
import type { Report, Verdict } from '../types.js';
import { writeFileAtomic } from '../util/atomic.js';
import { version } from '../version.js';
import { ProbeEndpoint, type DaemonTarget, type ProbeEndpointOptions } from './probe-endpoint.js';
import { startServer, stopServer } from './server.js';
import { ReportStore } from './store.js';
import { BasicAuth, type WebConfig } from './webconfig.js';
import { sleep, Webhook, type WebhookOptions } from './webhook.js';

export type { DaemonTarget };

export interface DaemonOptions {
  targets: DaemonTarget[];
  everyMs: number;
  /** Each run starts up to this much later than its slot (random), so a fleet does not march in step. */
  jitterMs: number;
  host: string;
  port: number;
  reportsDir?: string;
  keep: number;
  webhook?: Omit<WebhookOptions, 'onOutcome'>;
  /** Engine options for every run (timeouts, control, DNS servers, …). */
  check: Omit<CheckOptions, 'stopSignal' | 'hardSignal'>;
  redact?: boolean;
  /** Also write the latest reports' metrics here after each run (node_exporter textfile, atomic). */
  textfile?: string;
  /** Where log lines go (stderr in the CLI). */
  log: (line: string) => void;
  /** The check to run; tests pass one that fails on purpose to prove the loop survives it. */
  runCheck?: (plan: Plan, opts: CheckOptions) => Promise<Report>;
  /** Random source for jitter (0 ≤ x < 1). */
  random?: () => number;
  /** TLS and basic auth for every endpoint (`--web.config.file`). */
  web?: WebConfig;
  /** `/probe` settings (blackbox's timeout offset, ad-hoc deadline, concurrency). */
  probe?: Pick<ProbeEndpointOptions, 'timeoutOffsetMs' | 'defaultTimeoutMs' | 'adhocTimeoutMs' | 'maxInFlight'>;
}

/** One line whose verdict changed between two runs. */
export interface VerdictChange {
  line: string;
  description: string;
  from: Verdict | 'absent';
  to: Verdict | 'absent';
  reason?: string;
  remediation?: string;
}

/** Lines whose verdict differs between two reports of the same catalog. */
export function verdictChanges(prev: Report, next: Report): VerdictChange[] {
  const before = new Map(prev.lines.map((l) => [l.id, l]));
  const out: VerdictChange[] = [];
  for (const l of next.lines) {
    const p = before.get(l.id);
    if (!p || p.verdict !== l.verdict) {
      out.push({ line: l.id, description: l.description, from: p?.verdict ?? 'absent', to: l.verdict, reason: l.reason, ...(l.remediation ? { remediation: l.remediation } : {}) });
    }
    before.delete(l.id);
  }
  for (const p of before.values()) out.push({ line: p.id, description: p.description, from: p.verdict, to: 'absent' });
  return out;
}

/** The scheduler, its metrics registry and its HTTP endpoints. `start()`, then `shutdown()`. */
export class Daemon {
  readonly registry = new Registry();
  private readonly reportMetrics: ReportMetrics;
  private readonly m: {
    runs: Counter<string>;
    lastRunSuccess: Gauge<string>;
    inProgress: Gauge<string>;
    writeErrors: Counter<string>;
    webhook: Counter<string>;
    nextRun: Gauge<string>;
    skipped: Counter<string>;
  };
  private readonly latest = new Map<string, Report>();
  private readonly lastAttempt = new Map<string, { at: string; ok: boolean; error?: string }>();
  private readonly store: ReportStore | undefined;
  private readonly webhook: Webhook | undefined;
  private readonly stop = new AbortController();
  private readonly hard = new AbortController();
  private server: Server | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private running: string | undefined;
  private nextRunAt: number | undefined;
  private readonly startedAt = Date.now();
  runsCompleted = 0;

  constructor(private readonly o: DaemonOptions) {
    registerBuildInfo(this.registry, version());
    this.reportMetrics = new ReportMetrics(this.registry);
    const r = [this.registry];
    this.m = {
      runs: new Counter({ name: 'netcheck_runs_total', help: 'Runs by catalog and result (success: a report was produced; error: the run threw).', labelNames: ['catalog', 'result'], registers: r }),
      lastRunSuccess: new Gauge({ name: 'netcheck_last_run_success', help: 'Whether the last run of the catalog produced a report (1) or threw (0).', labelNames: ['catalog'], registers: r }),
      inProgress: new Gauge({ name: 'netcheck_run_in_progress', help: 'Whether a run is in progress.', registers: r }),
      writeErrors: new Counter({ name: 'netcheck_report_write_errors_total', help: 'Reports (or the metrics textfile) that could not be written.', registers: r }),
      webhook: new Counter({ name: 'netcheck_webhook_deliveries_total', help: 'Webhook deliveries by result (success, failure after retries, dropped from a full queue).', labelNames: ['result'], registers: r }),
      nextRun: new Gauge({ name: 'netcheck_next_run_timestamp_seconds', help: 'When the next run is scheduled (Unix time).', registers: r }),
      skipped: new Counter({ name: 'netcheck_skipped_runs_total', help: 'Scheduled slots skipped because the previous run was still going.', registers: r }),
    };
    for (const t of o.targets) {
      for (const result of ['success', 'error']) this.m.runs.inc({ catalog: t.id, result }, 0);
    }
    for (const result of ['success', 'failure', 'dropped']) this.m.webhook.inc({ result }, 0);
    this.m.inProgress.set(0);
    this.store = o.reportsDir ? new ReportStore(o.reportsDir, o.keep) : undefined;
    this.webhook = o.webhook
      ? new Webhook({
          ...o.webhook,
          onOutcome: (result, detail) => {
            this.m.webhook.inc({ result });
            if (result !== 'success') o.log(`webhook: ${result} (${detail})`);
          },
        })
      : undefined;
  }

  /** Start serving and scheduling; resolves with the bound address once listening. */
  async start(): Promise<{ host: string; port: number }> {
    const probe = new ProbeEndpoint({
      targets: this.o.targets,
      check: this.o.check,
      stopSignal: this.stop.signal,
      hardSignal: this.hard.signal,
      ...(this.o.redact ? { redact: true } : {}),
      ...(this.o.runCheck ? { runCheck: this.o.runCheck } : {}),
      ...this.o.probe,
    });
    const { server, address } = await startServer(
      {
        registry: this.registry,
        health: () => this.health(),
        latest: (cat) => (cat ? this.latest.get(cat) : [...this.latest.values()].sort((a, b) => b.finishedAt.localeCompare(a.finishedAt))[0]),
        catalogs: () => this.o.targets.map((t) => t.id),
        probe: (q, headers) => probe.handle(q, headers),
      },
      this.o.host,
      this.o.port,
      (err) => this.o.log(`http server: ${(err as NodeJS.ErrnoException).code ?? err.message}`),
      {
        ...(this.o.web?.tls ? { tls: this.o.web.tls } : {}),
        ...(this.o.web?.users.size ? { auth: new BasicAuth(this.o.web.users) } : {}),
      },
    );
    this.server = server;
    // --every 0s: no schedule of its own; Prometheus drives every check through /probe.
    if (this.o.everyMs > 0) this.loopDone = this.loop().catch((err: unknown) => this.o.log(`scheduler stopped by a bug: ${(err as Error).stack ?? String(err)}`));
    return { host: address.address, port: address.port };
  }

  /**
   * Stop: no new run starts, a run in progress is asked to stop (probes in flight finish within
   * their own deadline; `hard` cancels them), webhook deliveries are abandoned, the server closes.
   */
  async shutdown(hard = false): Promise<void> {
    this.stop.abort();
    if (hard) this.hard.abort();
    await this.loopDone;
    await this.webhook?.close();
    if (this.server) await stopServer(this.server);
    this.server = undefined;
  }

  /** Resolves when the scheduler loop has ended (after `shutdown`). */
  get done(): Promise<void> {
    return this.loopDone;
  }

  /** Wait until every queued webhook delivery finished (tests). */
  async webhookDrained(): Promise<void> {
    await this.webhook?.drained();
  }

  health(): Record<string, unknown> {
    // Liveness stays 200 (the daemon serves); `degraded` says a catalog's last run threw.
    const degraded = [...this.lastAttempt.values()].some((a) => !a.ok);
    return {
      status: degraded ? 'degraded' : 'ok',
      version: version(),
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      running: this.running ?? null,
      nextRunAt: this.nextRunAt ? new Date(this.nextRunAt).toISOString() : null,
      runsCompleted: this.runsCompleted,
      catalogs: Object.fromEntries(
        this.o.targets.map((t) => {
          const r = this.latest.get(t.id);
          return [t.id, { lastAttempt: this.lastAttempt.get(t.id) ?? null, lastReport: r ? { finishedAt: r.finishedAt, headline: headline(r), summary: r.summary } : null }];
        }),
      ),
    };
  }

  private jitter(): number {
    return this.o.jitterMs > 0 ? Math.floor((this.o.random ?? Math.random)() * this.o.jitterMs) : 0;
  }

  private async loop(): Promise<void> {
    let slot = Date.now();
    let next = slot + this.jitter();
    while (!this.stop.signal.aborted) {
      this.nextRunAt = next;
      this.m.nextRun.set(next / 1000);
      const wait = next - Date.now();
      if (wait > 0 && !(await sleep(wait, this.stop.signal))) break;
      await this.runAll();
      slot += this.o.everyMs;
      // Absolute grid: a run that overran its slot skips the missed slots rather than queueing them.
      while (slot <= Date.now()) {
        slot += this.o.everyMs;
        this.m.skipped.inc();
      }
      next = slot + this.jitter();
    }
    this.nextRunAt = undefined;
  }

  /** Run every catalog once, one after another. Exposed for tests. */
  async runAll(): Promise<void> {
    for (const t of this.o.targets) {
      if (this.stop.signal.aborted) return;
      await this.runOne(t);
    }
  }

  private async runOne(t: DaemonTarget): Promise<void> {
    const run = this.o.runCheck ?? realRunCheck;
    const at = new Date().toISOString();
    this.running = t.id;
    this.m.inProgress.set(1);
    let report: Report;
    try {
      report = await run(t.plan, { ...this.o.check, stopSignal: this.stop.signal, hardSignal: this.hard.signal });
    } catch (err) {
      // A run that throws is a bug or a local failure: count it, keep the last good metrics, go on.
      const msg = (err as Error)?.message ?? String(err);
      this.o.log(`${t.id}: run failed: ${msg}`);
      this.m.runs.inc({ catalog: t.id, result: 'error' });
      this.m.lastRunSuccess.set({ catalog: t.id }, 0);
      this.lastAttempt.set(t.id, { at, ok: false, error: msg });
      return;
    } finally {
      this.running = undefined;
      this.m.inProgress.set(0);
    }
    if (report.interrupted && this.stop.signal.aborted) {
      this.o.log(`${t.id}: run interrupted by shutdown; not recorded`);
      return;
    }
    try {
      this.record(t, report, at);
    } catch (err) {
      this.o.log(`${t.id}: could not record the run (a bug): ${(err as Error).stack ?? String(err)}`);
    }
  }

  private async writeTextfile(path: string): Promise<void> {
    try {
      writeFileAtomic(path, await reportsToPrometheusText([...this.latest.values()]));
    } catch (err) {
      this.m.writeErrors.inc();
      const e = err as NodeJS.ErrnoException;
      this.o.log(`metrics textfile not saved to ${path}: ${e.code ?? e.message}`);
    }
  }

  private record(t: DaemonTarget, full: Report, at: string): void {
    const report = this.o.redact ? redactReport(full) : full;
    const prev = this.latest.get(t.id);
    this.reportMetrics.update(report);
    this.m.runs.inc({ catalog: t.id, result: 'success' });
    this.m.lastRunSuccess.set({ catalog: t.id }, 1);
    this.latest.set(t.id, report);
    this.lastAttempt.set(t.id, { at, ok: true });
    this.runsCompleted++;
    const s = report.summary.verdicts;
    this.o.log(`${t.id}: ${headline(report)} (${s.pass} pass, ${s.fail} fail, ${s.partial} partial, ${s.inconclusive} inconclusive) in ${(report.durationMs / 1000).toFixed(1)}s`);

    if (this.o.textfile) void this.writeTextfile(this.o.textfile);

    if (this.store) {
      try {
        this.store.save(report);
      } catch (err) {
        this.m.writeErrors.inc();
        const e = err as NodeJS.ErrnoException;
        this.o.log(`${t.id}: report not saved to ${this.store.dir}: ${e.code ?? e.message}; metrics and /report still have it`);
      }
    }

    // The first run is the baseline: a change needs a before.
    if (prev && this.webhook) {
      const changes = verdictChanges(prev, report);
      if (changes.length) {
        this.webhook.send({
          event: 'verdict-change',
          catalog: t.id,
          title: report.catalog.title,
          finishedAt: report.finishedAt,
          headline: headline(report),
          summary: report.summary,
          diagnoses: report.diagnoses,
          changes,
        });
      }
    }
  }
}
