/**
 * Sweep-sized plans and results for the pure report code (issue 14): a real plan from a real
 * catalog (nothing is sent: planning only), and results built from it, so buildReport and the
 * renderers can be given 65,534 probes without a network.
 */
import type { Plan } from '../../src/catalog/expand.js';
import { expandCatalog } from '../../src/catalog/expand.js';
import { parseCatalog } from '../../src/catalog/load.js';
import { buildReport } from '../../src/report/build.js';
import type { ProbeResult, Report, Status } from '../../src/types.js';

/** One line per range, every address swept, TCP on `ports`. */
export function sweepPlan(ranges: string[], ports = '9000', kind = 'tcp'): Plan {
  const def = {
    schema: 'netcheck/catalog/v1',
    id: 'sweep',
    title: 'sweep',
    source: 'test',
    sections: [{ id: 'main', name: 'Main', lines: ranges.map((r, i) => ({ id: `r${i}`, description: `${kind} ${r}:${ports}`, targets: [r], ports, checks: [{ kind }] })) }],
  };
  return expandCatalog(parseCatalog(JSON.stringify(def), 'test'), { params: {}, sweep: true, maxSweepTargets: 1 << 20 });
}

const REASON: Record<Status, string> = {
  ok: 'CONNECTED',
  refused: 'ECONNREFUSED',
  unreachable: 'EHOSTUNREACH',
  filtered: 'SYN_TIMEOUT',
  'open|filtered': 'UDP_SILENCE',
  timeout: 'HTTP_HEADERS_TIMEOUT',
  error: 'CONNECT_FAILED',
  skipped: 'NOT_APPLICABLE',
};

/** A result per planned probe, with the status `statusOf` gives the i-th probe. */
export function sweepResults(plan: Plan, statusOf: (i: number) => Status): ProbeResult[] {
  const startedAt = '2026-01-01T00:00:00.000Z';
  return plan.probes.map((s, i) => {
    const status = statusOf(i);
    return {
      id: s.id,
      line: s.line,
      kind: s.kind,
      host: s.host,
      port: s.port,
      startedAt,
      durationMs: 1.5,
      attempts: 1,
      status,
      reason: REASON[status],
      detail: `synthetic ${status}`,
      address: s.host,
      // As the engine does: a swept address stands for its documented range (the fix list names it).
      sampledFrom: s.sampledFrom,
      phases: status === 'filtered' ? {} : { connectMs: 1.2 },
    };
  });
}

/** The report of such a sweep. */
export function sweepReport(plan: Plan, statusOf: (i: number) => Status): Report {
  return buildReport({
    plan,
    results: sweepResults(plan, statusOf),
    startedAt: new Date('2026-01-01T00:00:00.000Z'),
    finishedAt: new Date('2026-01-01T00:00:09.000Z'),
    interrupted: false,
    version: 'test',
  });
}
