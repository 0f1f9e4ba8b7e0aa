/**
 * Before and after (issue 16): two reports of the same catalog compared line by line, so a ticket
 * can show what the network team's change did — lines fixed, lines that broke, probes newly
 * failing — and a script can stop when anything got worse. Pure: functions of two Reports.
 */
import type { Diagnosis, LineResult, ProbeResult, Report, Verdict } from '../types.js';
import { cell } from './markdown.js';
import { headline, probeTarget, VERDICT_LABEL } from './present.js';

/** Better is higher: a line that passes beats one that cannot tell, which beats a partial failure. */
const RANK: Record<Verdict, number> = { fail: 0, partial: 1, inconclusive: 2, pass: 3 };

export type Change = 'better' | 'worse' | 'same' | 'new' | 'gone';

/** What happened to one documented line between the two runs. */
export interface LineDiff {
  line: string;
  description: string;
  required: boolean;
  before?: Verdict;
  after?: Verdict;
  change: Change;
  /** True when the line counts as worse: a lower verdict, a new failing line, or a probe that passed and now fails. */
  worse: boolean;
  reason?: string;
  /** Probes ("tcp 10.0.0.5:443") that passed before and do not now. */
  newlyFailing: string[];
  /** Probes that did not pass before and pass now. */
  fixed: string[];
}

export interface ReportDiff {
  catalog: { id: string; title: string };
  before: { startedAt: string; headline: string };
  after: { startedAt: string; headline: string };
  /** Parameters that differ between the runs (a reader should know the runs were not alike). */
  parameters: { name: string; before?: string; after?: string }[];
  lines: LineDiff[];
  /** Run-level findings that appeared or went away. */
  diagnoses: { added: Diagnosis['code'][]; removed: Diagnosis['code'][] };
  /** Measured idle timers whose verdict changed. */
  timers: { id: string; before?: Verdict; after?: Verdict; worse: boolean }[];
  /** Anything worse at all: the exit code of `netcheck diff` is 1 then. */
  worse: boolean;
  counts: { better: number; worse: number; same: number; new: number; gone: number };
}

function probesOf(r: Report, l: LineResult): ProbeResult[] {
  const byId = new Map(r.probes.map((p) => [p.id, p]));
  return l.probes.map((id) => byId.get(id)).filter((p): p is ProbeResult => !!p);
}

const passed = (p: ProbeResult): boolean => p.status === 'ok';
const named = (p: ProbeResult): string => `${p.kind} ${probeTarget(p)}`;
const counted = (p: ProbeResult): boolean => p.status !== 'skipped';

function headlineOf(r: Report): string {
  return headline(r).replace(/^RESULT: /, '');
}

/** Compare two reports. Throws nothing: the caller checks that the catalogs match. */
export function diffReports(before: Report, after: Report): ReportDiff {
  const beforeLines = new Map(before.lines.map((l) => [l.id, l]));
  const lines: LineDiff[] = [];
  for (const a of after.lines) {
    const b = beforeLines.get(a.id);
    beforeLines.delete(a.id);
    const ap = probesOf(after, a).filter(counted);
    const bp = b ? new Map(probesOf(before, b).filter(counted).map((p) => [p.id, p])) : new Map<string, ProbeResult>();
    // Probes are matched by id (line/kind/target): sampled addresses drawn afresh are not compared.
    const newlyFailing = ap.filter((p) => !passed(p) && bp.get(p.id) && passed(bp.get(p.id)!)).map(named);
    const fixed = ap.filter((p) => passed(p) && bp.get(p.id) && !passed(bp.get(p.id)!)).map(named);
    const change: Change = !b ? 'new' : RANK[a.verdict] > RANK[b.verdict] ? 'better' : RANK[a.verdict] < RANK[b.verdict] ? 'worse' : 'same';
    const worse = change === 'worse' || (change === 'new' && (a.verdict === 'fail' || a.verdict === 'partial')) || newlyFailing.length > 0;
    lines.push({
      line: a.id,
      description: a.description,
      required: a.required,
      ...(b ? { before: b.verdict } : {}),
      after: a.verdict,
      change,
      worse,
      ...(change !== 'same' || newlyFailing.length || fixed.length ? { reason: a.reason } : {}),
      newlyFailing,
      fixed,
    });
  }
  for (const b of beforeLines.values()) {
    lines.push({ line: b.id, description: b.description, required: b.required, before: b.verdict, change: 'gone', worse: false, newlyFailing: [], fixed: [] });
  }

  const codes = (r: Report): Set<Diagnosis['code']> => new Set(r.diagnoses.map((d) => d.code));
  const [db, da] = [codes(before), codes(after)];
  const diagnoses = { added: [...da].filter((c) => !db.has(c)), removed: [...db].filter((c) => !da.has(c)) };

  const measured = (r: Report): Map<string, Verdict> => new Map((r.timers ?? []).filter((t) => t.checked && t.verdict).map((t) => [t.id, t.verdict!]));
  const [tb, ta] = [measured(before), measured(after)];
  const timers = [...new Set([...tb.keys(), ...ta.keys()])]
    .filter((id) => tb.get(id) !== ta.get(id))
    .map((id) => {
      const b = tb.get(id);
      const a = ta.get(id);
      return { id, ...(b ? { before: b } : {}), ...(a ? { after: a } : {}), worse: !!a && (b ? RANK[a] < RANK[b] : a === 'fail' || a === 'partial') };
    });

  const names = [...new Set([...Object.keys(before.parameters), ...Object.keys(after.parameters)])].sort();
  const parameters = names
    .filter((n) => before.parameters[n] !== after.parameters[n])
    .map((n) => ({ name: n, ...(before.parameters[n] !== undefined ? { before: before.parameters[n] } : {}), ...(after.parameters[n] !== undefined ? { after: after.parameters[n] } : {}) }));

  const counts = { better: 0, worse: 0, same: 0, new: 0, gone: 0 };
  for (const l of lines) counts[l.change]++;
  return {
    catalog: { id: after.catalog.id, title: after.catalog.title },
    before: { startedAt: before.startedAt, headline: headlineOf(before) },
    after: { startedAt: after.startedAt, headline: headlineOf(after) },
    parameters,
    lines,
    diagnoses,
    timers,
    worse: lines.some((l) => l.worse) || timers.some((t) => t.worse) || diagnoses.added.some((c) => c !== 'INTERRUPTED'),
    counts,
  };
}

const label = (v: Verdict | undefined): string => (v ? VERDICT_LABEL[v] : 'absent');

function summaryLine(d: ReportDiff): string {
  const worseLines = d.lines.filter((l) => l.worse).length;
  const parts = [
    worseLines ? `${worseLines} line(s) worse` : '',
    d.counts.better ? `${d.counts.better} better` : '',
    d.counts.new ? `${d.counts.new} new` : '',
    d.counts.gone ? `${d.counts.gone} gone` : '',
    `${d.lines.filter((l) => !l.worse && l.change === 'same').length} unchanged`,
  ].filter(Boolean);
  return `${d.worse ? 'WORSE' : d.counts.better ? 'BETTER' : 'NO REGRESSION'}: ${parts.join(', ')}`;
}

function changeText(l: LineDiff): string {
  if (l.change === 'new') return `new: ${label(l.after)}`;
  if (l.change === 'gone') return `was ${label(l.before)}, not in the later report`;
  return `${label(l.before)} → ${label(l.after)}`;
}

/** The diff as text for a terminal. */
export function renderDiffText(d: ReportDiff): string {
  const out = [`netcheck diff ${d.catalog.id}: ${d.catalog.title}`, `before ${d.before.startedAt}: ${d.before.headline}`, `after  ${d.after.startedAt}: ${d.after.headline}`, '', summaryLine(d)];
  for (const p of d.parameters) out.push(`  note: parameter --${p.name} differs: ${p.before ?? '(unset)'} → ${p.after ?? '(unset)'}`);
  for (const c of d.diagnoses.added) out.push(`  new finding: ${c}`);
  for (const c of d.diagnoses.removed) out.push(`  finding gone: ${c}`);
  const shown = d.lines.filter((l) => l.change !== 'same' || l.worse || l.fixed.length);
  if (shown.length) out.push('');
  for (const l of shown) {
    out.push(`  ${(l.worse ? 'WORSE ' : l.change === 'better' ? 'BETTER' : '      ')}  ${changeText(l).padEnd(28)} ${l.line} (${l.description})${l.required ? '' : ' [optional]'}`);
    if (l.newlyFailing.length) out.push(`          now failing: ${l.newlyFailing.join(', ')}`);
    if (l.fixed.length) out.push(`          fixed: ${l.fixed.join(', ')}`);
    if (l.reason && l.change !== 'gone') out.push(`          now: ${l.reason}`);
  }
  for (const t of d.timers) out.push(`  ${t.worse ? 'WORSE ' : '      '}  idle timer ${t.id}: ${label(t.before)} → ${label(t.after)}`);
  return out.join('\n') + '\n';
}

/** The diff as Markdown, for the ticket. */
export function renderDiffMarkdown(d: ReportDiff): string {
  const out = [`# netcheck diff: ${cell(d.catalog.title)}`, '', `**${summaryLine(d)}**`, ''];
  out.push('| | Run | Result |', '|---|---|---|', `| Before | ${d.before.startedAt} | ${cell(d.before.headline)} |`, `| After | ${d.after.startedAt} | ${cell(d.after.headline)} |`, '');
  if (d.parameters.length) {
    out.push('Parameters that differ: ' + d.parameters.map((p) => `\`--${p.name}\` ${cell(p.before ?? '(unset)')} → ${cell(p.after ?? '(unset)')}`).join('; '), '');
  }
  if (d.diagnoses.added.length || d.diagnoses.removed.length) {
    out.push(...d.diagnoses.added.map((c) => `- New finding: \`${c}\``), ...d.diagnoses.removed.map((c) => `- Finding gone: \`${c}\``), '');
  }
  out.push('| Line | Before | After | Change | Now failing | Fixed |', '|---|---|---|---|---|---|');
  for (const l of d.lines) {
    const change = l.worse ? '❌ worse' : l.change === 'better' ? '✅ better' : l.change === 'new' ? 'new' : l.change === 'gone' ? 'gone' : 'same';
    out.push(
      `| ${cell(l.description)}${l.required ? '' : ' (optional)'}<br>\`${l.line}\` | ${label(l.before)} | ${label(l.after)} | ${change} | ${cell(l.newlyFailing.join(', '))} | ${cell(l.fixed.join(', '))} |`,
    );
  }
  for (const t of d.timers) out.push(`| idle timer \`${t.id}\` | ${label(t.before)} | ${label(t.after)} | ${t.worse ? '❌ worse' : 'changed'} | | |`);
  out.push('');
  return out.join('\n');
}
