/**
 * Markdown: the report as it is pasted into a vendor ticket. Headline and diagnoses first, then a
 * table per document section (verdict, line, why, what to do), the probes that did not pass, and
 * the environment the results came from. Pure: a function of the Report only.
 */
import type { LineResult, ProbeResult, Report, Verdict } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { bracketText, documentMeta, envEmptyWord, FIX_FORMATS_HINT, FIX_LABEL, FIX_TITLE, headline, idleFlows, probeTarget, ruleDests, ruleWhat, VERDICT_LABEL } from './present.js';
import { describeSweepCounts, formatCount, moreText, SWEEP_EXCEPTIONS_SHOWN, SWEEP_SUMMARY_MIN_PROBES, sweepSummary, type SweepSummary } from './sweep-summary.js';

/** Rows of the "did not pass" table: a ticket needs the pattern, not a 4,000-row sweep. */
export const MAX_PROBE_ROWS = 100;

const ICON: Record<Verdict, string> = { pass: '✅', fail: '❌', partial: '⚠️', inconclusive: '❔' };

/** Escape text for a Markdown table cell: pipes, newlines and inline HTML. */
export function cell(s: string | undefined): string {
  return (s ?? '').replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, '<br>');
}

function code(s: string): string {
  // GFM splits table cells on `|` even inside code spans, so escape it there too.
  return '`' + s.replace(/`/g, 'ˋ').replace(/\|/g, '\\|') + '`';
}

/** The report as Markdown (GitHub-flavoured tables), for a ticket. */
export function renderMarkdown(report: Report): string {
  const out: string[] = [];
  const s = report.summary;
  out.push(`# netcheck: ${cell(report.catalog.title)}`, '');
  out.push(`**${headline(report)}**`, '');
  out.push(
    `| | |`,
    `|---|---|`,
    `| Catalog | ${code(report.catalog.id)} (source: ${report.catalog.sources.map(cell).join(', ')}) |`,
    ...(report.catalog.document ? [`| Document | ${documentCell(report)} |`] : []),
    `| Run | ${report.startedAt} → ${report.finishedAt} (${formatDuration(report.durationMs)})${report.interrupted ? ' — **interrupted**' : ''} |`,
    `| Verdicts | ${(['pass', 'fail', 'partial', 'inconclusive'] as Verdict[]).map((v) => `${s.verdicts[v]} ${v}`).join(' · ')} |`,
    `| Probes | ${s.probes} (${cell(Object.entries(s.statuses).map(([k, v]) => `${v} ${k}`).join(', ')) || 'none'}) |`,
  );
  const params = Object.entries(report.parameters);
  if (params.length) out.push(`| Parameters | ${params.map(([k, v]) => code(`--${k} ${v}`)).join(' ')} |`);
  if (report.control) out.push(`| Interception control | ${cell(report.control.target)}: ${report.control.status} (${cell(report.control.reason)}) |`);
  out.push('');

  if (report.diagnoses.length) {
    out.push('## Read first', '');
    for (const d of report.diagnoses) out.push(`- **${d.severity === 'critical' ? 'Critical' : 'Warning'} (${d.code}):** ${cell(d.message)}`);
    out.push('');
  }

  const lineById = new Map(report.lines.map((l) => [l.id, l]));
  const probeById = new Map(report.probes.map((p) => [p.id, p]));
  for (const sec of report.sections) {
    out.push(`## ${cell(sec.name)}`, '');
    out.push(`Source: ${cell(sec.source)}`, '');
    out.push('| Verdict | Line | Why | What to do | Document says |', '|---|---|---|---|---|');
    for (const id of sec.lines) {
      const l = lineById.get(id);
      if (l) out.push(`| ${ICON[l.verdict]} ${VERDICT_LABEL[l.verdict]} | ${lineLabel(l)} | ${cell(l.reason)} | ${cell(l.remediation ?? '')} | ${l.quote ? `“${cell(l.quote)}”` : ''} |`);
    }
    out.push('');
  }

  // Big lines (sweeps) get a summary of their own, nmap-style; the table below lists the others.
  const notOk: ProbeResult[] = [];
  const sweeps: { line: LineResult; summary: SweepSummary }[] = [];
  for (const l of report.lines) {
    const probes = l.probes.map((id) => probeById.get(id)).filter((p): p is ProbeResult => !!p);
    const summary = sweepSummary(probes);
    if (summary) sweeps.push({ line: l, summary });
    else for (const p of probes) if (p.status !== 'ok') notOk.push(p);
  }
  if (sweeps.length) {
    out.push('## Sweeps', '');
    out.push(`Lines of ${SWEEP_SUMMARY_MIN_PROBES} probes or more: counts per status, then every probe whose status differs from the most common one (the first ${SWEEP_EXCEPTIONS_SHOWN} of each status and reason; the JSON report lists every probe).`, '');
    for (const { line, summary } of sweeps) {
      out.push(`- ${code(line.id)} ${cell(line.description)}: ${formatCount(summary.probes)} probes: ${describeSweepCounts(summary)}`);
      if (!summary.exceptions.length) continue;
      out.push('', '  | Probe | Status | Reason | Time |', '  |---|---|---|---|');
      for (const g of summary.exceptions) {
        for (const p of g.shown) out.push(`  ${probeRow(p, false)}`);
        const more = moreText(g);
        if (more) out.push(`  | ${cell(more)} | | | |`);
      }
      out.push('');
    }
    if (out.at(-1) !== '') out.push('');
  }
  if (notOk.length) {
    out.push('## Probes that did not pass', '');
    out.push('| Line | Probe | Status | Reason | Time |', '|---|---|---|---|---|');
    for (const p of notOk.slice(0, MAX_PROBE_ROWS)) out.push(probeRow(p));
    if (notOk.length > MAX_PROBE_ROWS) out.push('', `… and ${notOk.length - MAX_PROBE_ROWS} more; the JSON or HTML report lists every probe.`);
    out.push('');
  }

  const flows = idleFlows(report);
  if (report.timers?.length || flows.length) {
    out.push('## Idle timers', '');
    for (const t of report.timers ?? []) {
      const r = t as unknown as Record<string, unknown>;
      const state = r.checked ? (typeof r.verdict === 'string' ? r.verdict : 'checked') : `not measured by this run${typeof r.note === 'string' ? ` (${r.note})` : ''}`;
      const bracket = bracketText(r.bracket);
      const scaled = typeof r.requireMs === 'number' && r.requireMs !== t.seconds * 1000 ? ` (checked against ${formatDuration(r.requireMs)})` : '';
      out.push(`- ${t.protocol.toUpperCase()} ${formatDuration(t.seconds * 1000)}${scaled}: ${cell(t.description)} — ${cell(state)}${bracket ? ` (${cell(bracket)})` : ''}`);
    }
    if (flows.length) {
      out.push('', '| Flow | Idle gap | Result |', '|---|---|---|');
      for (const f of flows) out.push(`| ${f.protocol.toUpperCase()} ${cell(f.label)} | ${formatDuration(f.gapMs)} | ${f.survived ? 'survived' : f.survived === false ? `lost${f.how ? ` (${cell(f.how)})` : ''}` : `not proven${f.how ? ` (${cell(f.how)})` : ''}`} |`);
    }
    out.push('');
  }

  if (report.notApplicable?.length) {
    out.push('## Not applicable with these parameters', '');
    for (const n of report.notApplicable) out.push(`- ${code(n.id)}: ${cell(n.reason)}`);
    out.push('');
  }
  if (report.notRun?.length) {
    out.push('## Not run (left out by --only; not counted)', '');
    for (const n of report.notRun) out.push(`- ${code(n.id)}: ${cell(n.reason)}`);
    out.push('');
  }

  const env = report.environment;
  if (env) {
    out.push('## Environment', '');
    out.push('| | |', '|---|---|');
    out.push(`| netcheck | ${env.netcheckVersion} |`);
    out.push(`| OS | ${cell(`${env.os.type} ${env.os.release} (${env.os.platform}/${env.os.arch})`)}, host ${code(env.os.hostname)} |`);
    out.push(`| Node | ${env.node} |`);
    const addrs = env.interfaces.filter((i) => i.addresses.some((a) => !a.internal)).map((i) => `${i.name}: ${i.addresses.map((a) => a.cidr ?? a.address).join(', ')}`);
    out.push(`| Interfaces | ${cell(addrs.join('; ') || (env.interfacesSource === 'unknown' ? envEmptyWord(env, 'interfaces') : 'none besides loopback'))} |`);
    out.push(`| Default route | ${cell(env.defaultRoutes.map((r) => `IPv${r.family} via ${r.gateway ?? 'direct'} dev ${r.interface} metric ${r.metric}`).join('; ') || envEmptyWord(env, 'routes'))} |`);
    out.push(`| DNS servers | ${cell(env.dns.servers.join(', ') || envEmptyWord(env, 'dns'))} (${env.dns.source}${env.dns.search?.length ? `; search ${env.dns.search.join(' ')}` : ''}) |`);
    out.push(`| Proxy | ${cell(env.proxy.map((p) => `${p.name}=${p.value}`).join('; ') || 'none set')} |`);
    out.push(`| Egress address | ${env.egress ? `${cell(env.egress.address)} (${cell(env.egress.source)})` : 'not known'} |`);
    out.push(`| Time | ${env.time.collectedAt} (${env.time.timeZone}, UTC${env.time.utcOffsetMinutes >= 0 ? '+' : '-'}${formatOffset(env.time.utcOffsetMinutes)}) |`);
    out.push('');
  }
  out.push(...fixListMarkdown(report));
  out.push(`<sub>netcheck ${report.tool.version} · report schema v${report.schemaVersion}</sub>`, '');
  return out.join('\n');
}

/** One row of a probe table: (line,) probe, status, reason, time. */
function probeRow(p: ProbeResult, withLine = true): string {
  const addr = p.address && p.address !== p.host ? ` → ${p.address}` : '';
  return `${withLine ? `| ${code(p.line)} ` : ''}| ${p.kind} ${cell(probeTarget(p))}${cell(addr)} | ${cell(p.status)} | ${code(p.reason)}${p.detail ? ` ${cell(p.detail)}` : ''} | ${formatDuration(p.durationMs)} |`;
}

/** The document as a Markdown cell: its title linked when it has a public URL. */
function documentCell(report: Report): string {
  const d = report.catalog.document!;
  const title = d.url ? `[${cell(d.title)}](${d.url.replace(/[()\s|]/g, encodeURIComponent)})` : `“${cell(d.title)}”`;
  const meta = documentMeta(d);
  return `${title}${meta ? ` (${cell(meta)})` : ''}${d.note ? ` — ${cell(d.note)}` : ''}`;
}

/** "Ask your network team to allow": the rules as a table, then the fixes no rule makes. */
function fixListMarkdown(report: Report): string[] {
  const f = report.fixList;
  if (!f) return [];
  const out = [`## ${FIX_TITLE}`, ''];
  if (f.rules.length) {
    out.push('| Allow | To | For | Document says |', '|---|---|---|---|');
    for (const r of f.rules) {
      out.push(`| ${cell(ruleWhat(r))} | ${ruleDests(r).map(code).join(' ')}${r.names.length ? ' (by name)' : ''} | ${cell(r.description)}${r.condition ? ` (${cell(r.condition)})` : ''}<br>${code(r.line)} | ${r.quote ? `“${cell(r.quote)}”` : ''} |`);
    }
    // Not code(): outside a table a backslash before | would show.
    out.push('', FIX_FORMATS_HINT.replace(/netcheck .*$/, (m) => `\`${m}\``), '');
  }
  if (f.instructions.length) {
    out.push(f.rules.length ? 'Not fixed by a firewall rule:' : 'No firewall rule fixes these:', '');
    for (const i of f.instructions) out.push(`- **${FIX_LABEL[i.code]}** (${code(i.line)}): ${cell(i.text)}`);
    out.push('');
  }
  return out;
}

function lineLabel(l: LineResult): string {
  const tags = [l.role?.replace('-', ' '), l.required ? undefined : 'optional', l.condition].filter(Boolean).join(', ');
  return `${cell(l.description)}${tags ? ` (${cell(tags)})` : ''}<br>${code(l.id)}`;
}

function formatOffset(min: number): string {
  const a = Math.abs(min);
  return `${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}
