/**
 * `probe http` durations equal the sum of their phases (issue 16): the phases run back to back
 * from the probe's start to its end (resolve → connect → first byte → transfer), so nothing the
 * probe waited for is left out of them. What remains is netcheck's own bookkeeping around the
 * prober, a millisecond or two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';
import { startDnsmasq } from '../helpers/daemons.js';
import { httpServer, type Closeable } from '../helpers/servers.js';
import { needTools } from '../helpers/tools.js';

const DNSMASQ = needTools('the http phase test to a name (dnsmasq resolves it)', ['dnsmasq'])?.dnsmasq;

describe('probe http: the phases add up to the duration', () => {
  let web: Closeable;
  let dns: Closeable;
  beforeAll(async () => {
    // A server that thinks for 150 ms, then sends 256 KiB: every phase has something to measure.
    web = await httpServer((_req, res) => setTimeout(() => res.end(Buffer.alloc(256 * 1024, 120)), 150));
    if (DNSMASQ) dns = await startDnsmasq(DNSMASQ, { 'portal.lab.test': ['127.0.0.1'] });
  });
  afterAll(async () => {
    await Promise.all([web?.close(), dns?.close()]);
  });

  for (const [what, target, extra, needsDns] of [
    ['an address', () => `127.0.0.1:${web.port}`, () => [] as string[], false],
    ['a name (resolve phase included)', () => `portal.lab.test:${web.port}`, () => ['--dns-server', `127.0.0.1:${dns.port}`, '-4'], true],
  ] as const) {
    it.skipIf(needsDns && !DNSMASQ)(`to ${what}`, async () => {
      // What is in no phase is this process's own time between phases, which a loaded machine
      // stretches; the bug this guards against (loading undici, the DNS lookup, outside every
      // phase) cost 150 ms and more in every run. So: the best of three runs.
      const gaps: number[] = [];
      for (let run = 0; run < 3; run++) {
        const r = await runCli(['probe', 'http', target(), ...extra(), '--json', '--timeout', '5s']);
        expect(r.code, r.stderr).toBe(0);
        const p = (JSON.parse(r.stdout) as Report).probes[0]!;
        expect(p.status).toBe('ok');
        const phases = p.phases!;
        expect(Object.keys(phases)).toEqual([...(what.startsWith('a name') ? ['resolveMs'] : []), 'connectMs', 'firstByteMs', 'transferMs']);
        expect(phases.firstByteMs!).toBeGreaterThanOrEqual(140);
        const sum = Object.values(phases).reduce((a, b) => a + b, 0);
        expect(sum).toBeLessThanOrEqual(p.durationMs + 0.1);
        gaps.push((p.durationMs - sum) / Math.max(10, p.durationMs * 0.1));
        if (gaps.at(-1)! < 1) break;
      }
      // Each gap as a share of its tolerance, max(10 ms, 10 % of the duration); the bug left 150 ms and more outside every phase.
      expect(Math.min(...gaps), JSON.stringify(gaps)).toBeLessThan(1);
    });
  }
});
