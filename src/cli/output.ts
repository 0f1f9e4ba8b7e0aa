/** Writing a finished report where the user asked for it, and the exit code it implies. */
import { EXIT, OutputError, UsageError } from '../errors.js';
import { RENDERERS, formatForFile } from '../report/index.js';
import { jsonReportChunks } from '../report/json-stream.js';
import { isInternalAddress, redactReport } from '../report/redact.js';
import type { Report } from '../types.js';
import { describeIoError, unwritableReason, writeChunksAtomic, writeFileAtomic } from '../util/atomic.js';
import { writeChunksToStream } from '../util/atomic-stream.js';
import { interrupts, noteStdoutError } from './signals.js';

/** Where and how a run's report is written: the output part of every run command's options. */
export interface OutputOptions {
  format: string;
  output?: string;
  verbose: boolean;
  quiet: boolean;
  color: boolean;
  /** Mask internal addresses, host names and credentials in every output (`--redact`). */
  redact?: boolean;
  /** node_exporter textfile to write the run's metrics to (`--prometheus-textfile`). */
  prometheusTextfile?: string;
}

/** The format the `--output` file gets: `--format` when given, else its extension, else text. */
export function outputFormat(o: Pick<OutputOptions, 'format' | 'output'>): string {
  return o.format !== 'text' ? o.format : (o.output ? formatForFile(o.output) : undefined) ?? 'text';
}

/**
 * Checked before anything is sent: the files a run will write can be written (`--output`,
 * `--prometheus-textfile`), and `--format` does not contradict the extension of `--output`. A
 * run of minutes must not end by throwing its results away.
 */
export function checkOutputs(o: Pick<OutputOptions, 'format' | 'output' | 'prometheusTextfile'>, formatGiven: boolean): void {
  if (o.output !== undefined) {
    const byExt = formatForFile(o.output);
    if (formatGiven && byExt && byExt !== o.format) {
      throw new UsageError(`--format ${o.format} and --output ${o.output} disagree: the file would hold ${o.format} under a .${o.output.split('.').pop()} name; use one (e.g. --output report.${o.format === 'junit' ? 'xml' : o.format === 'markdown' ? 'md' : o.format === 'text' ? 'txt' : o.format})`);
    }
    const fmt = outputFormat(o);
    if (!RENDERERS[fmt]) throw new UsageError(`format '${fmt}' is not available in this build; available: ${Object.keys(RENDERERS).join(', ')}`);
  } else if (!RENDERERS[o.format]) {
    throw new UsageError(`format '${o.format}' is not available in this build; available: ${Object.keys(RENDERERS).join(', ')}`);
  }
  for (const [flag, path] of [['--output', o.output], ['--prometheus-textfile', o.prometheusTextfile]] as const) {
    if (path === undefined) continue;
    const why = unwritableReason(path);
    if (why) throw new UsageError(`${flag} ${path}: ${why}; nothing was sent`, 'NC_OUTPUT');
  }
}

/**
 * Write the report where asked: stdout and/or `--output`, then the `--prometheus-textfile`.
 * With `--redact` every output is rendered from the redacted report. Await it: the textfile is
 * written after the rest. When a file cannot be written (checked before the run, so the disk
 * filled up or the folder went away since), the old file stays as it was, the report goes to
 * stdout instead, and an {@link OutputError} (exit 74) is thrown at the end.
 */
export async function emitReport(full: Report, o: OutputOptions): Promise<void> {
  const report = o.redact ? redactReport(full) : full;
  const failures: string[] = [];
  const failed = await writeReport(report, o);
  if (failed) failures.push(failed);
  if (!o.redact && !o.quiet) {
    const notice = sharingNotice(full, [o.format, ...(o.output ? [outputFormat(o)] : [])]);
    if (notice) process.stderr.write(notice);
  }
  if (o.prometheusTextfile) {
    // prom-client (and its OpenTelemetry dependency) load only when metrics are asked for.
    const { reportsToPrometheusText } = await import('../report/prometheus.js');
    const text = await reportsToPrometheusText([report]);
    try {
      writeFileAtomic(o.prometheusTextfile, text);
      if (!o.quiet) process.stderr.write(`netcheck: metrics written to ${o.prometheusTextfile}\n`);
    } catch (err) {
      failures.push(`could not write the metrics to ${o.prometheusTextfile} (${describeIoError((err as NodeJS.ErrnoException).code)}); the previous file, if any, is untouched`);
    }
  }
  if (failures.length) throw new OutputError(failures.join('; '));
}

/** Render and write; returns why the `--output` file could not be written, if it could not. */
async function writeReport(report: Report, o: OutputOptions): Promise<string | undefined> {
  if (o.output) {
    const fmt = outputFormat(o);
    const r = RENDERERS[fmt]!;
    try {
      // JSON is streamed to its file (a sweep's report is tens of MB): same atomic contract, bounded memory.
      if (fmt === 'json') writeChunksAtomic(o.output, jsonReportChunks(report));
      else writeFileAtomic(o.output, r(report, { color: false, verbose: o.verbose }));
    } catch (err) {
      // The measured results are not lost: they go to stdout, in the format the file was to have.
      await toStdout(report, fmt, o);
      return `could not write the report to ${o.output} (${describeIoError((err as NodeJS.ErrnoException).code)}); the previous file, if any, is untouched, and the report (${fmt}) went to stdout instead`;
    }
    if (!o.quiet) process.stderr.write(`netcheck: report written to ${o.output} (${fmt})\n`);
    // The terminal still gets the readable report unless stdout was asked to carry a format.
    if (o.format === 'text' || o.format === fmt) process.stdout.write(RENDERERS.text!(report, { color: o.color, verbose: o.verbose }));
    return undefined;
  }
  await toStdout(report, o.format, o);
  return undefined;
}

/** The report on stdout; JSON in chunks, waiting for a slow reader. A reader that left is noted (exit 141). */
async function toStdout(report: Report, fmt: string, o: OutputOptions): Promise<void> {
  if (fmt !== 'json') {
    process.stdout.write(RENDERERS[fmt]!(report, { color: fmt === 'text' && o.color, verbose: o.verbose }));
    return;
  }
  try {
    await writeChunksToStream(process.stdout, jsonReportChunks(report));
  } catch (err) {
    noteStdoutError((err as NodeJS.ErrnoException).code);
  }
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
 * The run's stop and cancel signals (src/cli/signals.ts): Ctrl-C once stops scheduling, lets
 * probes in flight finish and writes what was measured; twice cancels the probes in flight too;
 * SIGTERM counts as Ctrl-C. A signal that came before the run started stops it before it sends
 * anything (its report then has no probes). `dispose` ends the notices on stderr.
 */
export function interruptControllers(quiet: boolean): { stop: AbortController; hard: AbortController; dispose: () => void } {
  const say = (text: string): void => {
    if (!quiet) process.stderr.write(text);
  };
  if (interrupts.count > 0) say('netcheck: interrupted before the run started: nothing is sent; writing the report as it stands\n');
  interrupts.notice = (count) =>
    say(count === 1 ? '\nnetcheck: interrupted — finishing probes in flight, then writing the partial report (Ctrl-C again to cancel them)\n' : '\nnetcheck: cancelling the probes in flight (a third Ctrl-C exits without a report)\n');
  return {
    stop: interrupts.stop,
    hard: interrupts.hard,
    dispose: () => {
      interrupts.notice = undefined;
    },
  };
}
