/** Writing a finished report where the user asked for it, and the exit code it implies. */
import { EXIT, UsageError } from '../errors.js';
import { RENDERERS, formatForFile } from '../report/index.js';
import { isInternalAddress, redactReport } from '../report/redact.js';
import type { Report } from '../types.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { CommonRunOptions } from './options.js';

/**
 * Write the report where asked: stdout and/or `--output`, then the `--prometheus-textfile`.
 * With `--redact` every output is rendered from the redacted report. Await it: the textfile is
 * written after the rest.
 */
export async function emitReport(full: Report, o: CommonRunOptions): Promise<void> {
  const report = o.redact ? redactReport(full) : full;
  writeReport(report, o);
  if (!o.redact && !o.quiet) {
    const notice = sharingNotice(full, [o.format, ...(o.output ? [o.format !== 'text' ? o.format : formatForFile(o.output) ?? 'text'] : [])]);
    if (notice) process.stderr.write(notice);
  }
  if (o.prometheusTextfile) {
    // prom-client (and its OpenTelemetry dependency) load only when metrics are asked for.
    const { reportsToPrometheusText } = await import('../report/prometheus.js');
    const text = await reportsToPrometheusText([report]);
    try {
      writeFileAtomic(o.prometheusTextfile, text);
    } catch (err) {
      throw new UsageError(`--prometheus-textfile ${o.prometheusTextfile}: cannot write it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'NC_IO');
    }
    if (!o.quiet) process.stderr.write(`netcheck: metrics written to ${o.prometheusTextfile}\n`);
  }
}

function writeReport(report: Report, o: CommonRunOptions): void {
  if (o.output) {
    const fmt = o.format !== 'text' ? o.format : formatForFile(o.output) ?? 'text';
    const r = RENDERERS[fmt];
    if (!r) throw new UsageError(`format '${fmt}' is not available in this build; available: ${Object.keys(RENDERERS).join(', ')}`);
    writeFileAtomic(o.output, r(report, { color: false, verbose: o.verbose }));
    if (!o.quiet) process.stderr.write(`netcheck: report written to ${o.output} (${fmt})\n`);
    // The terminal still gets the readable report unless stdout was asked to carry a format.
    if (o.format === 'text' || o.format === fmt) process.stdout.write(RENDERERS.text!(report, { color: o.color, verbose: o.verbose }));
    return;
  }
  const r = RENDERERS[o.format];
  if (!r) throw new UsageError(`format '${o.format}' is not available in this build; available: ${Object.keys(RENDERERS).join(', ')}`);
  process.stdout.write(r(report, { color: o.format === 'text' && o.color, verbose: o.verbose }));
}

/**
 * Markdown and HTML are made to be attached to a vendor's ticket, so say once what they reveal
 * when written unredacted (issue 16): this host's name and the internal addresses in the report.
 */
export function sharingNotice(report: Report, formats: string[]): string | undefined {
  const shared = [...new Set(formats.filter((f) => f === 'markdown' || f === 'html'))];
  if (!shared.length) return undefined;
  const env = report.environment;
  const some = (xs: string[]): string => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ', …' : ''}`;
  const own = [...new Set(env?.interfaces.flatMap((i) => i.addresses.filter((a) => !a.internal).map((a) => a.address)) ?? [])];
  const probed = [...new Set(report.probes.flatMap((p) => [p.host, p.address ?? '']).filter((a) => isInternalAddress(a)))];
  const what = [
    env?.os.hostname ? `this host's name (${env.os.hostname})` : '',
    own.length ? `its addresses (${some(own)})` : '',
    probed.length ? `internal addresses it checked (${some(probed)})` : '',
    env?.dns.servers.length || env?.defaultRoutes.length ? 'the DNS servers and routes in use' : '',
  ].filter(Boolean);
  return `netcheck: note: the ${shared.map((f) => (f === 'html' ? 'HTML' : 'Markdown')).join(' and ')} report includes ${what.join(', ') || 'details of this network'}; before sharing it outside your organisation, run again with --redact to mask them\n`;
}

/** 0 all required pass · 1 a required line fails · 3 only inconclusive · 130 interrupted. */
export function exitCodeFor(report: Report): number {
  if (report.interrupted) return EXIT.INTERRUPTED;
  if (report.summary.requiredFailing > 0 || report.diagnoses.some((d) => d.code === 'NO_OUTBOUND_CONNECTIVITY')) return EXIT.FAILED;
  if (report.summary.requiredInconclusive > 0) return EXIT.INCONCLUSIVE;
  return EXIT.OK;
}

/**
 * Ctrl-C once: stop scheduling, let probes in flight finish, write what was measured.
 * Ctrl-C twice: cancel probes in flight too. SIGTERM behaves like the first Ctrl-C.
 */
export function interruptControllers(quiet: boolean): { stop: AbortController; hard: AbortController; dispose: () => void } {
  const stop = new AbortController();
  const hard = new AbortController();
  const onSignal = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      if (!quiet) process.stderr.write('\nnetcheck: interrupted — finishing probes in flight, then writing the partial report (Ctrl-C again to cancel them)\n');
    } else hard.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop,
    hard,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
