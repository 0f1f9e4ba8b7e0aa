import { describe, expect, it } from 'vitest';
import { lineVerdict } from '../../src/report/build.js';
import type { ProbeResult, Status } from '../../src/types.js';

const r = (status: Status, kind = 'tcp'): ProbeResult => ({
  id: `${kind}-${Math.random()}`,
  line: 'l',
  kind,
  host: '192.0.2.1',
  port: 443,
  status,
  reason: 'R',
  startedAt: '2026-01-01T00:00:00Z',
  durationMs: 1,
  attempts: 1,
});

describe('line verdicts', () => {
  it.each<[Status[], string]>([
    [['ok', 'ok'], 'pass'],
    [['refused', 'filtered'], 'fail'],
    [['ok', 'filtered'], 'partial'],
    [['open|filtered', 'open|filtered'], 'inconclusive'],
    [['ok', 'open|filtered'], 'inconclusive'],
    [['refused', 'open|filtered'], 'fail'],
    [['ok', 'refused', 'open|filtered'], 'partial'],
    [['skipped'], 'inconclusive'],
    [['ok', 'skipped'], 'pass'],
    [['timeout'], 'fail'],
  ])('all: %j → %s', (statuses, verdict) => {
    expect(lineVerdict(statuses.map((s) => r(s)), 'all', false).verdict).toBe(verdict);
  });

  it.each<[Status[], string]>([
    [['filtered', 'ok', 'filtered'], 'pass'],
    [['filtered', 'filtered'], 'inconclusive'],
    [['refused', 'unreachable'], 'fail'],
  ])('any (sampled range): %j → %s', (statuses, verdict) => {
    expect(lineVerdict(statuses.map((s) => r(s)), 'any', false).verdict).toBe(verdict);
  });

  it('UDP silence is never a pass', () => {
    const v = lineVerdict([r('open|filtered', 'udp')], 'all', false);
    expect(v.verdict).not.toBe('pass');
  });

  it('interception turns TCP-only passes into inconclusive, but not passes proven above TCP', () => {
    expect(lineVerdict([r('ok', 'tcp')], 'all', true).verdict).toBe('inconclusive');
    expect(lineVerdict([r('ok', 'http')], 'all', true).verdict).toBe('pass');
    expect(lineVerdict([r('ok', 'udp')], 'all', true).verdict).toBe('pass');
  });
});
