import { describe, expect, it } from 'vitest';
import { deadPathEvidence, lineVerdict } from '../../src/report/build.js';
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

const at = (status: Status, host: string, port: number, kind = 'tcp', reason = 'R'): ProbeResult => ({ ...r(status, kind), host, address: host, port, reason });

describe('per-port verdicts (issue 10)', () => {
  const samples = ['17.0.0.1', '17.85.85.85', '17.170.170.170', '17.255.255.254'];

  it('a sampled range passes only when every documented port got through somewhere', () => {
    // ESChat's APNS line: TCP 80 answers on two samples, 5223 dropped on all four.
    const rs = samples.flatMap((h, i) => [at(i < 2 ? 'ok' : 'filtered', h, 80), at('filtered', h, 5223)]);
    const v = lineVerdict(rs, 'any', false);
    expect(v.verdict).toBe('partial');
    expect(v.reason).toContain('TCP 5223: 4 filtered');
    expect(v.blame.every((p) => p.port === 5223)).toBe(true);
    // Every port answered on some sample: a pass, whatever the empty addresses of the range say.
    const ok = samples.flatMap((h, i) => [at(i === 0 ? 'ok' : 'filtered', h, 80), at(i === 3 ? 'ok' : 'filtered', h, 5223)]);
    expect(lineVerdict(ok, 'any', false).verdict).toBe('pass');
  });

  it('silence everywhere is inconclusive (no host may be behind the samples), refusals are a fail', () => {
    expect(lineVerdict(samples.flatMap((h) => [at('filtered', h, 80), at('filtered', h, 5223)]), 'any', false).verdict).toBe('inconclusive');
    expect(lineVerdict(samples.flatMap((h) => [at('refused', h, 80), at('filtered', h, 5223)]), 'any', false).verdict).toBe('fail');
  });

  it('UDP silence on one port while another answered stays inconclusive (silence is not proof)', () => {
    const rs = samples.flatMap((h) => [at('ok', h, 4201, 'udp'), at('open|filtered', h, 4202, 'udp')]);
    expect(lineVerdict(rs, 'any', false).verdict).toBe('inconclusive');
  });

  it('one intercepted TLS answer keeps a sampled line from passing', () => {
    const rs = [...samples.map((h) => at('ok', h, 443)), at('ok', samples[0]!, 443, 'tls', 'TLS_OK'), at('error', samples[1]!, 443, 'tls', 'TLS_INTERCEPTED')];
    const v = lineVerdict(rs, 'any', false);
    expect(v.verdict).toBe('partial');
    expect(v.blame.map((p) => p.reason)).toEqual(['TLS_INTERCEPTED']);
    expect(lineVerdict([at('ok', samples[0]!, 443), at('error', samples[0]!, 443, 'tls', 'TLS_INTERCEPTED')], 'all', false).verdict).toBe('partial');
  });

  it('a line of listed addresses names the port that failed', () => {
    const v = lineVerdict([at('ok', '192.0.2.1', 80), at('filtered', '192.0.2.1', 443), at('ok', '192.0.2.2', 80), at('filtered', '192.0.2.2', 443)], 'all', false);
    expect(v.verdict).toBe('partial');
    expect(v.reason).toContain('TCP 443: 2 filtered');
    expect(v.reason).not.toContain('TCP 80:');
  });

  it('DNS drift makes the line fail, or partial beside a check that passed', () => {
    const drift = { ...r('error', 'dns'), reason: 'DNS_DRIFT', port: undefined };
    expect(lineVerdict([drift], 'all', false).verdict).toBe('fail');
    expect(lineVerdict([drift, r('ok', 'http')], 'all', false).verdict).toBe('partial');
  });
});

describe('"no outbound connectivity" needs evidence (issue 10)', () => {
  it('TCP dropped or unreachable at three destinations, and nothing answered: evidence', () => {
    const dead = ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((h) => at('filtered', h, 443));
    expect(deadPathEvidence(dead)?.destinations).toBe(3);
    expect(deadPathEvidence([...dead, at('open|filtered', '192.0.2.9', 4201, 'udp')])?.destinations).toBe(3);
  });

  it.each<[string, ProbeResult[]]>([
    ['two destinations only', ['192.0.2.1', '192.0.2.2'].map((h) => at('filtered', h, 443))],
    ['UDP silence only', ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((h) => at('open|filtered', h, 4201, 'udp'))],
    ['a reset is an answer', [...['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((h) => at('filtered', h, 443)), at('refused', '192.0.2.4', 443)]],
    ['a UDP reply is an answer', [...['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((h) => at('filtered', h, 443)), at('ok', '192.0.2.4', 4201, 'udp')]],
    ['out of file descriptors', ['192.0.2.1', '192.0.2.2', '192.0.2.3'].map((h) => at('error', h, 443, 'tcp', 'EMFILE'))],
    ['names that do not resolve', ['a.test', 'b.test', 'c.test'].map((h) => ({ ...at('error', h, 443, 'tcp', 'NXDOMAIN'), address: undefined, data: { resolver: { source: 'system', servers: [] } } }))],
  ])('%s: no finding', (_why, rs) => {
    expect(deadPathEvidence(rs)).toBeUndefined();
  });
});
