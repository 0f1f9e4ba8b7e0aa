/**
 * `netcheck demo` is the README's first command: it must produce a real report and verify itself.
 */
import { describe, expect, it } from 'vitest';
import { labSupport } from '../../src/lab/netns.js';
import type { Report } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';

describe('netcheck demo', () => {
  it('loopback lab: a real report whose statuses match what was staged', async () => {
    const r = await runCli(['demo', '--loopback', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.schemaVersion).toBe(1);
    const statuses = new Set(report.probes.map((p) => p.status));
    for (const s of ['ok', 'refused', 'open|filtered', 'timeout', 'error', 'skipped']) expect(statuses).toContain(s);
    expect(r.stderr).toContain('self-check passed');
  });

  const support = labSupport();
  if (!support.ok) console.warn(`SKIPPED: namespace demo needs the lab: ${support.why}`);
  it.skipIf(!support.ok)('namespace lab: every status appears, through a real nftables firewall', async () => {
    const r = await runCli(['demo', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(new Set(report.probes.map((p) => p.status))).toEqual(new Set(['ok', 'refused', 'unreachable', 'filtered', 'open|filtered', 'timeout', 'error', 'skipped']));
    const push = report.lines.find((l) => l.id === 'push')!;
    expect(push.verdict).toBe('fail');
    expect(push.remediation).toContain('Allow outbound TCP 5223');
  });
});
