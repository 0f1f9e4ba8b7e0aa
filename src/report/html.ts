/**
 * HTML: one self-contained file (inline CSS and SVG, no script, no external request — a CSP meta
 * tag forbids any) that can be attached to a ticket and opened anywhere, offline. A per-line
 * table with verdicts and remediation, a timeline of probe durations, and idle-timer results
 * where the report has them. Pure: a function of the Report only.
 */
import type { ProbeResult, Report, Status, Verdict } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { bracketText, documentMeta, envEmptyWord, FIX_FORMATS_HINT, FIX_LABEL, FIX_TITLE, headline, idleFlows, offsetMs, probeTarget, reasonCodes, ruleDests, ruleWhat, type IdleFlow, VERDICT_LABEL } from './present.js';

/** Rows drawn in the timeline; beyond this the chart says how many were left out. */
export const TIMELINE_MAX_ROWS = 400;

const STATUS_COLOR: Record<Status, string> = {
  ok: '#2e7d32',
  refused: '#c62828',
  unreachable: '#ad1457',
  filtered: '#e65100',
  'open|filtered': '#0277bd',
  timeout: '#f9a825',
  error: '#6a1b9a',
  skipped: '#9e9e9e',
};

const VERDICT_COLOR: Record<Verdict, string> = { pass: '#2e7d32', fail: '#c62828', partial: '#ef6c00', inconclusive: '#0277bd' };

function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Round tick steps: 1, 2, 5 × 10^n milliseconds. */
function niceStep(maxMs: number, ticks: number): number {
  const raw = Math.max(maxMs / ticks, 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

function probeLabel(p: ProbeResult): string {
  return `${p.kind} ${probeTarget(p)}`;
}

function timelineSvg(report: Report): string {
  const probes = report.probes.filter((p) => p.status !== 'skipped' || p.durationMs > 0);
  if (probes.length === 0) return '<p class="muted" id="timeline-empty">No probe was sent, so there is no timeline.</p>';
  const shown = probes.slice(0, TIMELINE_MAX_ROWS);
  const rowH = 14;
  const labelW = 270;
  const plotW = 640;
  const top = 24;
  const ends = shown.map((p) => offsetMs(report, p.startedAt) + p.durationMs);
  const maxMs = Math.max(report.durationMs, ...ends, 1);
  const x = (ms: number): number => labelW + (ms / maxMs) * plotW;
  const h = top + shown.length * rowH + 8;
  const parts: string[] = [];
  parts.push(`<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 20}" height="${h}" viewBox="0 0 ${labelW + plotW + 20} ${h}" role="img" aria-label="Probe timeline: when each probe started and how long it took">`);
  const step = niceStep(maxMs, 6);
  for (let t = 0; t <= maxMs + 1e-9; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${x(t).toFixed(1)}" y2="${h - 6}" class="grid"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${top - 8}" class="tick" text-anchor="middle">${esc(formatDuration(t))}</text>`);
  }
  shown.forEach((p, i) => {
    const y = top + i * rowH;
    const start = offsetMs(report, p.startedAt);
    const w = Math.max((p.durationMs / maxMs) * plotW, 1.5);
    parts.push(`<text x="${labelW - 6}" y="${y + rowH - 4}" class="label" text-anchor="end">${esc(probeLabel(p).slice(0, 44))}</text>`);
    parts.push(
      `<rect class="bar" data-probe="${esc(p.id)}" data-status="${esc(p.status)}" x="${x(start).toFixed(1)}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="${STATUS_COLOR[p.status]}"><title>${esc(`${p.id}: ${p.status} ${p.reason} — ${formatDuration(p.durationMs)} from +${formatDuration(start)}`)}</title></rect>`,
    );
  });
  parts.push('</svg>');
  const more = probes.length > shown.length ? `<p class="muted">${probes.length - shown.length} more probes are not drawn; the table below lists them all.</p>` : '';
  const legend = (Object.keys(STATUS_COLOR) as Status[])
    .filter((s) => report.probes.some((p) => p.status === s))
    .map((s) => `<span class="key"><span class="swatch" style="background:${STATUS_COLOR[s]}"></span>${esc(s)}</span>`)
    .join(' ');
  return `<div class="legend">${legend}</div>${parts.join('')}${more}`;
}

function idleSvg(flows: IdleFlow[]): string {
  const protos = [...new Set(flows.map((f) => f.protocol))];
  const labelW = 80;
  const plotW = 620;
  const rowH = 40;
  const top = 24;
  const maxMs = Math.max(...flows.map((f) => f.gapMs), ...flows.map((f) => f.requiredMs ?? 0), 1) * 1.08;
  const x = (ms: number): number => labelW + (ms / maxMs) * plotW;
  const h = top + protos.length * rowH + 10;
  const parts = [`<svg id="idle-chart" xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 20}" height="${h}" viewBox="0 0 ${labelW + plotW + 20} ${h}" role="img" aria-label="Idle flows: which idle gaps each protocol survived">`];
  const step = niceStep(maxMs, 6);
  for (let t = 0; t <= maxMs; t += step) {
    parts.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${x(t).toFixed(1)}" y2="${h - 6}" class="grid"/><text x="${x(t).toFixed(1)}" y="${top - 8}" class="tick" text-anchor="middle">${esc(formatDuration(t))}</text>`);
  }
  protos.forEach((proto, i) => {
    const y = top + i * rowH + rowH / 2;
    parts.push(`<text x="${labelW - 8}" y="${y + 4}" class="label" text-anchor="end">${esc(proto.toUpperCase())}</text>`);
    const req = flows.find((f) => f.protocol === proto && f.requiredMs)?.requiredMs;
    if (req) parts.push(`<line class="required" x1="${x(req).toFixed(1)}" x2="${x(req).toFixed(1)}" y1="${y - rowH / 2 + 2}" y2="${y + rowH / 2 - 2}"><title>required: ${esc(formatDuration(req))}</title></line>`);
    for (const f of flows.filter((g) => g.protocol === proto)) {
      parts.push(
        `<circle class="flow" data-survived="${f.survived}" cx="${x(f.gapMs).toFixed(1)}" cy="${y}" r="6" fill="${f.survived ? STATUS_COLOR.ok : f.survived === false ? STATUS_COLOR.refused : STATUS_COLOR.skipped}"><title>${esc(`${proto.toUpperCase()} idle ${formatDuration(f.gapMs)}: ${f.survived ? 'survived' : f.survived === false ? `lost${f.how ? ` (${f.how})` : ''}` : `not proven${f.how ? ` (${f.how})` : ''}`}`)}</title></circle>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#212121}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e0e0e0;padding-bottom:4px}
.muted{color:#757575}.headline{font-size:17px;font-weight:600;padding:10px 14px;border-radius:6px;margin:14px 0;color:#fff}
.h-pass{background:#2e7d32}.h-fail{background:#c62828}.h-inconclusive{background:#0277bd}
.diag{border-left:4px solid #c62828;background:#fdecea;padding:8px 12px;margin:6px 0}.diag.warning{border-color:#ef6c00;background:#fff4e5}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid #e0e0e0;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#fafafa}.verdict{font-weight:700;color:#fff;border-radius:4px;padding:1px 6px;font-size:12px;white-space:nowrap}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f5f5f5;padding:0 3px;border-radius:3px}
.counts span{display:inline-block;margin-right:6px;font-size:12px}.legend{margin:4px 0}.key{margin-right:12px;font-size:12px}
.swatch{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle;border-radius:2px}
svg .grid{stroke:#eeeeee}svg .tick{font-size:10px;fill:#757575}svg .label{font:11px ui-monospace,Menlo,Consolas,monospace;fill:#424242}
svg .required{stroke:#212121;stroke-dasharray:4 3;stroke-width:1.5}
dl.env{display:grid;grid-template-columns:160px 1fr;gap:2px 12px}dl.env dt{color:#616161}dl.env dd{margin:0}
details{margin:8px 0}summary{cursor:pointer}
@media print{details{display:block}}`;

/** The report as one self-contained HTML document. */
export function renderHtml(report: Report): string {
  const s = report.summary;
  const lineById = new Map(report.lines.map((l) => [l.id, l]));
  const tone = s.requiredFailing > 0 || report.diagnoses.some((d) => d.code === 'NO_OUTBOUND_CONNECTIVITY') ? 'fail' : s.requiredInconclusive > 0 ? 'inconclusive' : 'pass';
  const b: string[] = [];
  b.push('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">');
  // No script, no fetch, no font, no image from anywhere: the file must open offline and leak nothing.
  b.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  b.push('<meta name="viewport" content="width=device-width,initial-scale=1">');
  b.push(`<title>netcheck: ${esc(report.catalog.title)}</title><style>${CSS}</style></head><body>`);
  b.push(`<h1>netcheck: ${esc(report.catalog.title)}</h1>`);
  b.push(`<div class="muted">catalog <code>${esc(report.catalog.id)}</code> · source ${report.catalog.sources.map(esc).join(', ')} · ${esc(report.startedAt)} · ${esc(formatDuration(report.durationMs))} · ${s.probes} probes${report.interrupted ? ' · <strong>interrupted</strong>' : ''}</div>`);
  const doc = report.catalog.document;
  if (doc) {
    // The URL as text, not a link: the file makes no request and carries no href (see the CSP).
    b.push(
      `<div class="muted" id="document">document: “${esc(doc.title)}”${documentMeta(doc) ? ` (${esc(documentMeta(doc))})` : ''}${doc.url ? ` <code>${esc(doc.url)}</code>` : ''}${doc.note ? ` — ${esc(doc.note)}` : ''}</div>`,
    );
  }
  const params = Object.entries(report.parameters);
  if (params.length) b.push(`<div class="muted">parameters: ${params.map(([k, v]) => `<code>--${esc(k)} ${esc(v)}</code>`).join(' ')}</div>`);
  b.push(`<div id="headline" class="headline h-${tone}">${esc(headline(report))} <span style="font-weight:400">(${(['pass', 'fail', 'partial', 'inconclusive'] as Verdict[]).map((v) => `${s.verdicts[v]} ${v}`).join(' · ')})</span></div>`);
  for (const d of report.diagnoses) b.push(`<div class="diag ${d.severity}" data-code="${esc(d.code)}"><strong>${esc(d.code)}</strong>: ${esc(d.message)}</div>`);
  if (report.control) b.push(`<p class="muted">Interception control ${esc(report.control.target)}: ${esc(report.control.status)} (${esc(report.control.reason)})</p>`);

  b.push('<h2>Documented lines</h2>');
  b.push('<table id="lines"><thead><tr><th>Verdict</th><th>Line</th><th>Why</th><th>Reason codes</th><th>What to do</th><th>Document says</th><th>Probes</th></tr></thead><tbody>');
  const probeById = new Map(report.probes.map((p) => [p.id, p]));
  for (const sec of report.sections) {
    b.push(`<tr class="section"><th colspan="7">${esc(sec.name)} <span class="muted" style="font-weight:400">[${esc(sec.source)}]</span></th></tr>`);
    for (const id of sec.lines) {
      const l = lineById.get(id);
      if (!l) continue;
      const tags = [l.role?.replace('-', ' '), l.required ? undefined : 'optional', l.condition].filter(Boolean).join(', ');
      const counts = Object.entries(l.counts).map(([st, n]) => `<span style="color:${STATUS_COLOR[st as Status] ?? '#000'}">${n} ${esc(st)}</span>`).join('');
      b.push(
        `<tr class="line" data-line="${esc(l.id)}" data-verdict="${l.verdict}"><td><span class="verdict" style="background:${VERDICT_COLOR[l.verdict]}">${VERDICT_LABEL[l.verdict]}</span></td>` +
          `<td>${esc(l.description)}${tags ? ` <span class="muted">(${esc(tags)})</span>` : ''}<br><code>${esc(l.id)}</code></td><td>${esc(l.reason)}</td>` +
          `<td class="reasons"><code>${esc(reasonCodes(l.probes.map((id) => probeById.get(id)).filter((p): p is ProbeResult => !!p)))}</code></td>` +
          `<td>${esc(l.remediation ?? '')}</td><td class="quote">${l.quote ? `<q>${esc(l.quote)}</q>` : ''}</td><td class="counts">${counts}</td></tr>`,
      );
    }
  }
  b.push('</tbody></table>');

  b.push('<h2>Timeline of probe durations</h2>');
  b.push(timelineSvg(report));

  const flows = idleFlows(report);
  if (report.timers?.length || flows.length) {
    b.push('<h2 id="timers">Idle timers</h2>');
    if (report.timers?.length) {
      b.push('<table id="timer-table"><thead><tr><th>Timer</th><th>Required idle</th><th>Result</th></tr></thead><tbody>');
      for (const t of report.timers) {
        const r = t as unknown as Record<string, unknown>;
        const bracket = bracketText(r.bracket);
        const state = r.checked ? `${typeof r.verdict === 'string' ? r.verdict : 'checked'}${bracket ? ` — ${bracket}` : ''}` : `not measured by this run${typeof r.note === 'string' ? ` (${r.note})` : ''}`;
        b.push(`<tr data-timer="${esc(t.id)}"><td>${esc(t.protocol.toUpperCase())}: ${esc(t.description)}</td><td>${esc(formatDuration(t.seconds * 1000))}${typeof r.requireMs === 'number' && r.requireMs !== t.seconds * 1000 ? ` <span class="muted">(checked against ${esc(formatDuration(r.requireMs))})</span>` : ''}</td><td>${esc(state)}</td></tr>`);
      }
      b.push('</tbody></table>');
    }
    if (flows.length) b.push(idleSvg(flows));
  }

  b.push('<details id="probes"><summary>Every probe</summary><table><thead><tr><th>Probe</th><th>Address</th><th>Status</th><th>Reason</th><th>Started</th><th>Duration</th></tr></thead><tbody>');
  for (const p of report.probes) {
    b.push(`<tr data-status="${esc(p.status)}"><td><code>${esc(p.id)}</code></td><td>${esc(p.address ?? '')}</td><td style="color:${STATUS_COLOR[p.status]}">${esc(p.status)}</td><td><code>${esc(p.reason)}</code> ${esc(p.detail ?? '')}</td><td>+${esc(formatDuration(offsetMs(report, p.startedAt)))}</td><td>${esc(formatDuration(p.durationMs))}</td></tr>`);
  }
  b.push('</tbody></table></details>');

  if (report.notApplicable?.length) {
    b.push('<h2>Not applicable with these parameters</h2><ul>');
    for (const n of report.notApplicable) b.push(`<li><code>${esc(n.id)}</code>: ${esc(n.reason)}</li>`);
    b.push('</ul>');
  }
  if (report.notRun?.length) {
    b.push('<h2>Not run (left out by --only; not counted)</h2><ul>');
    for (const n of report.notRun) b.push(`<li><code>${esc(n.id)}</code>: ${esc(n.reason)}</li>`);
    b.push('</ul>');
  }

  const env = report.environment;
  if (env) {
    b.push('<h2>Environment</h2><dl class="env" id="environment">');
    const row = (k: string, v: string): void => void b.push(`<dt>${esc(k)}</dt><dd>${v}</dd>`);
    row('netcheck', esc(env.netcheckVersion));
    row('OS', `${esc(env.os.type)} ${esc(env.os.release)} (${esc(env.os.platform)}/${esc(env.os.arch)}), host <code>${esc(env.os.hostname)}</code>`);
    row('Node', esc(env.node));
    row('Interfaces', env.interfaces.map((i) => `<code>${esc(i.name)}</code> ${i.addresses.map((a) => esc(a.cidr ?? a.address)).join(', ')}`).join('<br>') || envEmptyWord(env, 'interfaces'));
    row('Default route', env.defaultRoutes.map((r) => esc(`IPv${r.family} via ${r.gateway ?? 'direct'} dev ${r.interface} metric ${r.metric}`)).join('<br>') || envEmptyWord(env, 'routes'));
    row('DNS servers', `${esc(env.dns.servers.join(', ') || envEmptyWord(env, 'dns'))} <span class="muted">(${esc(env.dns.source)}${env.dns.search?.length ? `; search ${esc(env.dns.search.join(' '))}` : ''})</span>`);
    row('Proxy', env.proxy.map((p) => `<code>${esc(p.name)}=${esc(p.value)}</code>`).join('<br>') || 'none set');
    row('Egress address', env.egress ? `${esc(env.egress.address)} <span class="muted">(${esc(env.egress.source)})</span>` : 'not known');
    row('Time', `${esc(env.time.collectedAt)} (${esc(env.time.timeZone)}, UTC offset ${env.time.utcOffsetMinutes} min)`);
    b.push('</dl>');
  }
  b.push(...fixListHtml(report));
  b.push(`<p class="muted">netcheck ${esc(report.tool.version)} · report schema v${report.schemaVersion}</p>`);
  b.push('</body></html>\n');
  return b.join('\n');
}

/** "Ask your network team to allow": the rules of the failing lines, then fixes no rule makes. */
function fixListHtml(report: Report): string[] {
  const f = report.fixList;
  if (!f) return [];
  const b = [`<h2 id="fixlist">${esc(FIX_TITLE)}</h2>`];
  if (f.rules.length) {
    b.push('<table id="fix-rules"><thead><tr><th>Allow</th><th>To</th><th>For</th><th>Document says</th></tr></thead><tbody>');
    for (const r of f.rules) {
      b.push(
        `<tr data-line="${esc(r.line)}"><td>${esc(ruleWhat(r))}</td><td>${ruleDests(r).map((d) => `<code>${esc(d)}</code>`).join(' ')}${r.names.length ? ' <span class="muted">(by name)</span>' : ''}</td>` +
          `<td>${esc(r.description)}${r.condition ? ` <span class="muted">(${esc(r.condition)})</span>` : ''}<br><code>${esc(r.line)}</code></td><td>${r.quote ? `<q>${esc(r.quote)}</q>` : ''}</td></tr>`,
      );
    }
    b.push('</tbody></table>', `<p class="muted">${esc(FIX_FORMATS_HINT)}</p>`);
  }
  if (f.instructions.length) {
    b.push(`<p>${f.rules.length ? 'Not fixed by a firewall rule:' : 'No firewall rule fixes these:'}</p><ul id="fix-instructions">`);
    for (const i of f.instructions) b.push(`<li data-code="${esc(i.code)}"><strong>${esc(FIX_LABEL[i.code])}</strong> (<code>${esc(i.line)}</code>): ${esc(i.text)}</li>`);
    b.push('</ul>');
  }
  return b;
}
