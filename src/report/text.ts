/**
 * The terminal report: summary and diagnoses first, then each document section with its lines,
 * verdicts, reasons and remediation, then the probes that did not pass. Pure: colour is a
 * parameter, never read from the terminal here.
 */
import { Chalk } from 'chalk';
import type { LineResult, ProbeResult, Report, Status, Verdict } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { documentText, envEmptyWord, FIX_FORMATS_HINT, FIX_LABEL, FIX_TITLE, probeTarget, ruleDests, ruleWhat } from './present.js';
import { describeSweepCounts, formatCount, moreText, sweepSummary } from './sweep-summary.js';

export interface TextOptions {
  color: boolean;
  /** List every probe, not only the ones that did not pass. */
  verbose?: boolean;
}

export function renderText(report: Report, opts: TextOptions): string {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const verdictMark: Record<Verdict, string> = {
    pass: c.green('PASS        '),
    fail: c.red.bold('FAIL        '),
    partial: c.yellow.bold('PARTIAL     '),
    inconclusive: c.cyan('INCONCLUSIVE'),
  };
  const statusColor = (s: Status): string =>
    s === 'ok' ? c.green(s) : s === 'open|filtered' || s === 'skipped' ? c.cyan(s) : s === 'timeout' ? c.yellow(s) : c.red(s);

  const out: string[] = [];
  const s = report.summary;
  out.push(c.bold(`netcheck ${report.catalog.id}: ${report.catalog.title}`));
  out.push(c.dim(`source: ${report.catalog.sources.join(', ')} · ${report.startedAt} · ${formatDuration(report.durationMs)} · ${s.probes} probes`));
  const doc = documentText(report.catalog.document);
  if (doc) out.push(c.dim(`document: ${doc}`));
  const params = Object.entries(report.parameters);
  if (params.length) out.push(c.dim(`parameters: ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`));
  out.push('');
  const verdictLine = (['pass', 'fail', 'partial', 'inconclusive'] as Verdict[])
    .filter((v) => s.verdicts[v])
    .map((v) => `${s.verdicts[v]} ${v}`)
    .join(' · ');
  // Measured idle timers count among the required items (report/build.ts); name them apart.
  const timerCount = (v: Verdict): number => (report.timers ?? []).filter((t) => t.checked && t.verdict === v).length;
  const failing = [s.requiredFailing - timerCount('fail') ? `${s.requiredFailing - timerCount('fail')} required line(s) failing` : '', timerCount('fail') ? `${timerCount('fail')} idle timer(s) too short` : '']
    .filter(Boolean)
    .join(', ');
  const headline =
    s.requiredFailing > 0
      ? c.red.bold(`RESULT: ${failing}`)
      : s.requiredInconclusive > 0
        ? c.cyan.bold(`RESULT: no required line failed, ${s.requiredInconclusive} inconclusive`)
        : c.green.bold(timerCount('pass') ? 'RESULT: every required line and idle timer passes' : 'RESULT: every required line passes');
  // `netcheck idle` has timers only, no documented lines: no empty "()".
  out.push(verdictLine ? `${headline}   (${verdictLine})` : headline);
  for (const d of report.diagnoses) {
    out.push((d.severity === 'critical' ? c.red.bold('!! ') : c.yellow('!  ')) + d.message);
  }
  if (report.control && report.control.status !== 'ok') {
    out.push(c.dim(`control: ${report.control.target} did not connect (${report.control.status}), so TCP connects are meaningful here`));
  }
  out.push('');

  const byId = new Map(report.probes.map((p) => [p.id, p]));
  const lineById = new Map(report.lines.map((l) => [l.id, l]));
  for (const sec of report.sections) {
    out.push(c.bold.underline(sec.name) + c.dim(`  [${sec.source}]`));
    for (const id of sec.lines) {
      const l = lineById.get(id);
      if (!l) continue;
      out.push(renderLine(l, c, verdictMark));
      const probes = l.probes.map((p) => byId.get(p)).filter((p): p is ProbeResult => !!p);
      // A big line (a sweep) is told nmap-style: counts per status, then only the exceptions.
      const sweep = sweepSummary(probes);
      if (sweep) out.push(`      ${formatCount(sweep.probes)} probes: ${describeSweepCounts(sweep)}${sweep.exceptions.length || opts.verbose ? ':' : ''}`);
      if (sweep && !opts.verbose) {
        for (const g of sweep.exceptions) {
          for (const p of g.shown) out.push(`        ${renderProbe(p, statusColor)}`);
          const more = moreText(g);
          if (more) out.push(c.dim(`        ${more}`));
        }
        if (sweep.exceptions.some((g) => g.count > g.shown.length)) out.push(c.dim('        (--json lists every probe)'));
        continue;
      }
      const shown = opts.verbose ? probes : probes.filter((p) => p.status !== 'ok');
      const limit = opts.verbose ? Infinity : 8;
      for (const p of shown.slice(0, limit)) out.push(`      ${renderProbe(p, statusColor)}`);
      if (shown.length > limit) out.push(c.dim(`      … ${shown.length - limit} more (use --verbose or --json)`));
    }
    out.push('');
  }
  if (report.notApplicable?.length) {
    out.push(c.dim('Not applicable with these parameters:'));
    for (const n of report.notApplicable) out.push(c.dim(`  ${n.id}: ${n.reason}`));
    out.push('');
  }
  if (report.notRun?.length) {
    out.push(c.dim('Not run (left out by --only; not counted):'));
    for (const n of report.notRun) out.push(c.dim(`  ${n.id}: ${n.reason}`));
    out.push('');
  }
  const measured = (report.timers ?? []).filter((t) => t.checked);
  if (measured.length) {
    out.push(c.bold.underline('Idle timers') + c.dim('  [measured against a netcheck reflector]'));
    for (const t of measured) {
      const need = t.requireMs !== undefined ? formatDuration(t.requireMs) : formatDuration(t.seconds * 1000);
      out.push(`  ${verdictMark[t.verdict ?? 'inconclusive']} ${t.description}${c.dim(` (${t.protocol.toUpperCase()} ${need}${t.target ? ` via ${t.target}` : ''})`)}`);
      out.push(c.dim(`      ${t.reason ?? ''}`));
      for (const f of t.flows ?? []) {
        const state = f.state === 'survived' ? c.green('survived') : f.state === 'lost' ? c.red(`lost (${f.lost})`) : c.cyan(f.state);
        out.push(`      idle ${formatDuration(f.gapMs).padEnd(7)} ${state}${c.dim(` — ${f.detail}`)}`);
      }
    }
    out.push('');
  }
  const unmeasured = (report.timers ?? []).filter((t) => !t.checked);
  if (unmeasured.length) {
    out.push(c.dim(`Timers in the document (not measured by this run; add --timers --reflector HOST): ${unmeasured.map((t) => `${t.protocol.toUpperCase()} ${formatDuration(t.seconds * 1000)}`).join(', ')}`));
  }
  const st = Object.entries(s.statuses).map(([k, v]) => `${v} ${k}`).join(', ');
  out.push(c.dim(`probes: ${st}`));
  out.push(...fixListText(report, c));
  const env = report.environment;
  if (env && opts.verbose) {
    // Where the results came from (issue 6); the full fingerprint is in --format json/markdown/html.
    const route = env.defaultRoutes[0];
    out.push(
      c.dim(
        `environment: ${env.os.type} ${env.os.release} · Node ${env.node} · host ${env.os.hostname} · ` +
          `default route ${route ? `via ${route.gateway ?? 'direct'} dev ${route.interface}` : envEmptyWord(env, 'routes')} · ` +
          `DNS ${env.dns.servers.join(', ') || envEmptyWord(env, 'dns')} (${env.dns.source}) · proxy ${env.proxy.map((p) => `${p.name}=${p.value}`).join(' ') || 'none'}` +
          `${env.egress ? ` · egress ${env.egress.address}` : ''} · ${env.time.timeZone}`,
      ),
    );
  }
  return out.join('\n') + '\n';
}

function renderLine(l: LineResult, c: InstanceType<typeof Chalk>, mark: Record<Verdict, string>): string {
  const tags = [l.role?.replace('-', ' '), l.required ? undefined : 'optional', l.condition].filter(Boolean).join(', ');
  const head = `  ${mark[l.verdict]} ${l.description}${tags ? c.dim(` (${tags})`) : ''}`;
  const lines = [head, c.dim(`      ${l.reason}`)];
  if (l.sampling) {
    for (const s of l.sampling) {
      lines.push(c.dim(`      ${s.strategy === 'all' ? `swept all ${s.sampled}` : `sampled ${s.sampled} of ${BigInt(s.rangeSize).toLocaleString('en-US')} addresses (${s.strategy}${s.seed !== undefined ? `, seed ${s.seed}` : ''})`} in ${s.cidr}`));
    }
  }
  if (l.quote) lines.push(c.dim(`      document says: "${l.quote}"`));
  if (l.remediation) lines.push(`      ${c.bold('→')} ${l.remediation}`);
  return lines.join('\n');
}

/** The fix list, last, so it is what a reader copies into the ticket for the network team. */
function fixListText(report: Report, c: InstanceType<typeof Chalk>): string[] {
  const f = report.fixList;
  if (!f) return [];
  const out = ['', c.bold.underline(FIX_TITLE)];
  for (const r of f.rules) {
    out.push(`  ${ruleWhat(r)} to ${ruleDests(r).join(', ')}${r.names.length ? c.dim(' (names: allow them on the proxy, or resolve them)') : ''}`);
    out.push(c.dim(`      for ${r.description} (${r.line})${r.condition ? ` [${r.condition}]` : ''}${r.quote ? `; document: "${r.quote}"` : ''}`));
  }
  if (f.instructions.length) {
    out.push(f.rules.length ? '  Not fixed by a firewall rule:' : '  No firewall rule fixes these:');
    for (const i of f.instructions) out.push(`  - ${c.bold(FIX_LABEL[i.code])} (${i.line}): ${i.text}`);
  }
  if (f.rules.length) out.push(c.dim(`  ${FIX_FORMATS_HINT}`));
  return out;
}

function renderProbe(p: ProbeResult, color: (s: Status) => string): string {
  const where = probeTarget(p);
  const addr = p.address && p.address !== p.host ? ` [${p.address}]` : '';
  return `${p.kind.padEnd(5)} ${where}${addr}  ${color(p.status)} ${p.reason}${p.detail ? ` — ${p.detail}` : ''} (${formatDuration(p.durationMs)})`;
}
