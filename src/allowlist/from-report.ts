/**
 * `netcheck allowlist --from-report r.json`: the fix list a report carries (its failing and
 * partial lines' rules, src/report/fixlist.ts) as an {@link Allowlist}, so the renderers of
 * `netcheck allowlist` print it as nftables, iptables, CSV or JSON. Pure.
 */
import { isIP } from 'node:net';
import { UsageError } from '../errors.js';
import { FIX_LABEL } from '../report/present.js';
import type { Report } from '../types.js';
import type { Allowlist } from './rules.js';

/** Is this an address or CIDR a packet filter can take (not a `--redact` token)? */
function isAddress(a: string): boolean {
  return isIP(a.split('/')[0]!) !== 0;
}

/** The report's fix list as an allowlist; `file` names the report in messages and in the header. */
export function allowlistFromReport(report: Report, file: string): Allowlist {
  const fix = report.fixList ?? { rules: [], instructions: [] };
  for (const r of fix.rules) {
    const bad = [...r.v4, ...r.v6].find((a) => !isAddress(a));
    if (bad) {
      throw new UsageError(`${file}: line '${r.line}' has '${bad}' where an address belongs: the report was written with --redact, which masks the addresses a rule needs; use the report saved without --redact`);
    }
  }
  const failing = report.lines.filter((l) => l.verdict === 'fail' || l.verdict === 'partial').length;
  return {
    catalog: { id: report.catalog.id, title: report.catalog.title, source: report.catalog.sources.join(', ') },
    origin: `rules for the ${failing} failing or partial line(s) of the report ${file} (run ${report.startedAt}); nothing else is opened`,
    parameters: report.parameters,
    rules: fix.rules,
    notes: fix.instructions.map((i) => ({ line: i.line, reason: `not fixed by a rule (${FIX_LABEL[i.code]}): ${i.text}` })),
  };
}
