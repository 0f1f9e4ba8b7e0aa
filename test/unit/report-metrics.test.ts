/**
 * Report → Prometheus series (issue 6): one series per probe even when targets share a host,
 * stale series removed when a probe disappears, skipped probes absent, no free text in labels.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ReportMetrics, reportsToPrometheusText } from '../../src/report/prometheus.js';
import type { ProbeResult, Report } from '../../src/types.js';
import { ROOT } from '../helpers/cli.js';

const fixture = (): Report => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/reports/report.json'), 'utf8')) as Report;

function probe(over: Partial<ProbeResult>): ProbeResult {
  return { id: 'x', line: 'portal', kind: 'tcp', host: '127.0.0.1', status: 'ok', reason: 'CONNECTED', startedAt: '2026-01-01T00:00:00.000Z', durationMs: 5, attempts: 1, ...over };
}

describe('report metrics', () => {
  it('gives probes on one host but different URLs their own series', async () => {
    const r = fixture();
    r.probes.push(
      probe({ id: 'portal/ocsp/http://ocsp.example/a', kind: 'ocsp', host: 'ocsp.example', port: 80, status: 'ok' }),
      probe({ id: 'portal/ocsp/http://ocsp.example/b', kind: 'ocsp', host: 'ocsp.example', port: 80, status: 'timeout', reason: 'HTTP_TIMEOUT', detail: 'no answer in 3000ms' }),
    );
    const text = await reportsToPrometheusText([r]);
    expect(text).toContain('netcheck_probe_success{catalog="lab-report",line="portal",kind="ocsp",target="http://ocsp.example/a"} 1');
    expect(text).toContain('netcheck_probe_success{catalog="lab-report",line="portal",kind="ocsp",target="http://ocsp.example/b"} 0');
    // Reasons and details never become labels.
    expect(text).not.toContain('HTTP_TIMEOUT');
    expect(text).not.toContain('no answer');
  });

  it('exposes measured idle timers (verdict, requirement, bracket) and leaves unmeasured ones out', async () => {
    const text = await reportsToPrometheusText([fixture()]);
    expect(text).toContain('netcheck_idle_timer_verdict{catalog="lab-report",timer="udp-registration",protocol="udp",verdict="fail"} 1');
    expect(text).toContain('netcheck_idle_timer_required_seconds{catalog="lab-report",timer="udp-registration",protocol="udp"} 60');
    expect(text).toContain('netcheck_idle_timer_longest_survived_seconds{catalog="lab-report",timer="udp-registration",protocol="udp"} 40');
    expect(text).toContain('netcheck_idle_timer_shortest_lost_seconds{catalog="lab-report",timer="udp-registration",protocol="udp"} 55');
    expect(text).not.toContain('timer="tcp-registration"');
  });

  it('leaves skipped probes out and removes series a later run no longer has', async () => {
    const registry = new Registry();
    const m = new ReportMetrics(registry);
    const r = fixture();
    r.probes.push(probe({ id: 'portal/tcp/$extra', host: '$extra', status: 'skipped', reason: 'NOT_APPLICABLE' }));
    m.update(r);
    let text = await registry.metrics();
    expect(text).not.toContain('$extra');
    expect(text).toMatch(/line="data-silent"/);
    const smaller = fixture();
    smaller.lines = smaller.lines.filter((l) => l.id !== 'data-silent');
    smaller.probes = smaller.probes.filter((p) => p.line !== 'data-silent');
    m.update(smaller);
    text = await registry.metrics();
    expect(text).not.toMatch(/line="data-silent"/);
    expect(text).toMatch(/line="data-echo"/);
  });
});
