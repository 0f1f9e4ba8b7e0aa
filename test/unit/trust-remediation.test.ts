/** Remediation for trust-path findings: interception and proxy refusals are not "allow TCP 443". */
import { describe, expect, it } from 'vitest';
import { trustRemediation } from '../../src/report/trust-remediation.js';
import type { ProbeResult } from '../../src/types.js';

const base = { line: 'l', startedAt: '2026-01-01T00:00:00Z', durationMs: 1, attempts: 1 };
const r = (id: string, kind: string, reason: string, status: ProbeResult['status'], data: Record<string, unknown> = {}): ProbeResult =>
  ({ ...base, id, kind, host: 'www.example.com', port: 443, reason, status, detail: `${reason} detail`, data }) as ProbeResult;

describe('trust remediation', () => {
  it('gives each trust finding its own advice and leaves real port failures to the generic advice', () => {
    const rs = [
      r('a', 'tls', 'TLS_INTERCEPTED', 'error', { inspectionProduct: 'Zscaler' }),
      r('b', 'tls', 'PROXY_AUTH_REQUIRED', 'refused', { proxy: 'http://***@proxy:3128' }),
      r('c', 'crl', 'CRL_EXPIRED', 'error', { url: 'http://crl.example.com/x.crl' }),
      r('d', 'tcp', 'ECONNREFUSED', 'refused'),
    ];
    const { parts, handled } = trustRemediation(rs, 'the service');
    expect(parts).toHaveLength(3);
    expect(parts[0]).toMatch(/intercepted by Zscaler.*exempt/);
    expect(parts[1]).toMatch(/requires authentication/);
    expect(parts[2]).toMatch(/^http:\/\/crl\.example\.com\/x\.crl answered/);
    expect([...handled].map((x) => x.id).sort()).toEqual(['a', 'b', 'c']);
  });
});
