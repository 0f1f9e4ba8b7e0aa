/**
 * JUnit XML for CI systems: one <testsuite> per document section, one <testcase> per documented
 * line. `fail`/`partial` → <failure> (message: why; body: what to do and the probes that did not
 * pass); `inconclusive` → <skipped> with the reason, because "could not tell" is neither a pass nor
 * a failure; `pass` → an empty testcase. Pure: a function of the Report only.
 */
import type { LineResult, ProbeResult, Report } from '../types.js';
import { hostPort } from '../util/ip.js';
import { documentText, FIX_LABEL, FIX_TITLE, fixesOf, offsetMs, ruleDests, ruleWhat } from './present.js';

/** Escape for XML text and attribute values; drops characters XML 1.0 cannot carry. */
function x(s: unknown): string {
  return String(s ?? '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Seconds a line took: from its first probe's start to its last probe's end. */
function lineSeconds(report: Report, probes: ProbeResult[]): number {
  if (!probes.length) return 0;
  // A loop, not Math.min(...spread): a swept /16 is one line of 65,534 probes.
  let start = Infinity;
  let end = -Infinity;
  for (const p of probes) {
    const t = offsetMs(report, p.startedAt);
    if (t < start) start = t;
    if (t + p.durationMs > end) end = t + p.durationMs;
  }
  return Math.max(0, end - start) / 1000;
}

/**
 * Whole milliseconds a line took: from its first probe's start to its last probe's end. Whole
 * milliseconds, so that suite and run times, their sums, add up exactly in the printed seconds.
 */
function lineMs(report: Report, probes: ProbeResult[]): number {
  return Math.round(lineSeconds(report, probes) * 1000);
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function testcase(report: Report, l: LineResult, probes: ProbeResult[], classname: string, ms: number): string {
  const name = `${l.id}: ${l.description}${l.role ? ` (${l.role})` : ''}${l.required ? '' : ' [optional]'}`;
  const open = `    <testcase name="${x(name)}" classname="${x(classname)}" time="${seconds(ms)}">`;
  const bad = probes.filter((p) => p.status !== 'ok');
  const fix = fixesOf(report, l.id);
  const doc = report.catalog.document;
  const detail = [
    ...(l.remediation ? [`What to do: ${l.remediation}`] : []),
    `Source: ${l.source}${doc ? ` ${documentText(doc)}` : ''}`,
    ...(l.quote ? [`Document says: "${l.quote}"`] : []),
    ...bad.map((p) => `${p.kind} ${p.kind === 'dns' ? p.host : hostPort(p.host, p.port)}${p.address && p.address !== p.host ? ` [${p.address}]` : ''}: ${p.status} ${p.reason}${p.detail ? ` — ${p.detail}` : ''}`),
    ...(fix.rules.length || fix.instructions.length
      ? [`${FIX_TITLE}:`, ...fix.rules.map((r) => `  ${ruleWhat(r)} to ${ruleDests(r).join(', ')}`), ...fix.instructions.map((i) => `  ${FIX_LABEL[i.code]}: ${i.text}`)]
      : []),
  ].join('\n');
  if (l.verdict === 'fail' || l.verdict === 'partial') {
    return `${open}\n      <failure message="${x(`${l.verdict}: ${l.reason}`)}" type="${l.verdict}">${x(detail)}</failure>\n    </testcase>`;
  }
  if (l.verdict === 'inconclusive') {
    return `${open}\n      <skipped message="${x(`inconclusive: ${l.reason}`)}"/>\n      <system-out>${x(detail)}</system-out>\n    </testcase>`;
  }
  return `${open}</testcase>`;
}

/** The report as JUnit XML: a testsuite per section, a testcase per documented line. */
export function renderJunit(report: Report): string {
  const lineById = new Map(report.lines.map((l) => [l.id, l]));
  const probeById = new Map(report.probes.map((p) => [p.id, p]));
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  // Times add up as CI tools read them: a suite is the sum of its cases, the run the sum of its
  // suites. Lines run concurrently, so that sum may exceed the wall-clock time, which is a
  // property of its own (run.durationSeconds).
  let totalMs = 0;
  for (const sec of report.sections) {
    const cases: string[] = [];
    let f = 0;
    let sk = 0;
    let secMs = 0;
    const lines = sec.lines.map((id) => lineById.get(id)).filter((l): l is LineResult => !!l);
    for (const l of lines) {
      const probes = l.probes.map((id) => probeById.get(id)).filter((p): p is ProbeResult => !!p);
      if (l.verdict === 'fail' || l.verdict === 'partial') f++;
      if (l.verdict === 'inconclusive') sk++;
      const ms = lineMs(report, probes);
      secMs += ms;
      cases.push(testcase(report, l, probes, `netcheck.${report.catalog.id}.${sec.id}`, ms));
    }
    totalMs += secMs;
    tests += lines.length;
    failures += f;
    skipped += sk;
    suites.push(
      `  <testsuite name="${x(`${report.catalog.id}: ${sec.name}`)}" tests="${lines.length}" failures="${f}" errors="0" skipped="${sk}" time="${seconds(secMs)}" timestamp="${x(report.startedAt.replace(/Z$/, ''))}">\n` +
        (cases.length ? cases.join('\n') + '\n' : '') +
        '  </testsuite>',
    );
  }
  const props = [
    ['catalog', report.catalog.id],
    ['sources', report.catalog.sources.join(', ')],
    ['run.durationSeconds', seconds(report.durationMs)],
    ...Object.entries(report.parameters).map(([k, v]) => [`param.${k}`, v]),
    ...report.diagnoses.map((d) => [`diagnosis.${d.code}`, d.message]),
    ...(report.environment ? [['netcheck', report.environment.netcheckVersion], ['host', report.environment.os.hostname], ['dns', report.environment.dns.servers.join(', ')]] : []),
  ];
  const propsXml = `  <properties>\n${props.map(([k, v]) => `    <property name="${x(k)}" value="${x(v)}"/>`).join('\n')}\n  </properties>\n`;
  // Properties sit on the first suite too: several CI parsers ignore them on <testsuites>.
  const first = suites[0]?.replace(/^(  <testsuite [^>]*>\n)/, (m) => m + propsXml.replace(/^ {2}/gm, '    '));
  if (first !== undefined) suites[0] = first;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<testsuites name="${x(`netcheck ${report.catalog.id}`)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds(totalMs)}">\n` +
    suites.join('\n') +
    '\n</testsuites>\n'
  );
}
