/**
 * The pure parts of the path findings (issue 17): reading traceroute's output, what a trace
 * means, where an address lies, known answers. The behaviour itself is tested through real
 * namespaces in test/lab/path.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseExpectation } from '../../src/path/findings.js';
import { hopPlace, parseTraceroute, summariseTrace, traceRoute } from '../../src/path/trace.js';

describe('traceroute output', () => {
  it('reads hops, silences, RTTs and ICMP annotations', () => {
    const out = `traceroute to 198.51.100.2 (198.51.100.2), 20 hops max, 60 byte packets
 1  10.200.1.1  0.065 ms
 2  192.0.2.1  0.078 ms !X
 3  *
`;
    expect(parseTraceroute(out)).toEqual([
      { ttl: 1, address: '10.200.1.1', rttMs: 0.065 },
      { ttl: 2, address: '192.0.2.1', rttMs: 0.078, icmp: '!X' },
      { ttl: 3 },
    ]);
  });

  it('says where a TCP trace stops, and whether that is inside the network', () => {
    const hops = parseTraceroute(' 1  10.0.0.1  1.0 ms\n 2  *\n 3  *\n');
    const s = summariseTrace('tcp', '203.0.113.9', hops);
    expect(s.reached).toBe(false);
    expect(s.lastHop).toEqual({ ttl: 1, address: '10.0.0.1', place: 'inside' });
    expect(s.summary).toBe('dropped after hop 1 (10.0.0.1, inside your network)');
  });

  it('a UDP trace that stops beyond the egress is not called a drop outright (a silent destination looks the same)', () => {
    const s = summariseTrace('udp', '203.0.113.9', parseTraceroute(' 1  10.0.0.1  1 ms\n 2  198.51.100.1  2 ms\n 3  *\n'));
    expect(s.summary).toMatch(/^no answer after hop 2 \(198\.51\.100\.1, beyond your network's egress\): dropped beyond it, or a destination/);
  });

  it('a reject on the way, the destination reached, nobody answering', () => {
    expect(summariseTrace('tcp', '203.0.113.9', parseTraceroute(' 1  10.0.0.1  1 ms\n 2  100.64.0.1  2 ms !X\n')).summary).toBe(
      "rejected by hop 2 (100.64.0.1, in your provider's carrier-grade NAT) with ICMP administratively prohibited",
    );
    expect(summariseTrace('tcp', '203.0.113.9', parseTraceroute(' 1  10.0.0.1  1 ms\n 2  203.0.113.9  2 ms\n')).reached).toBe(true);
    expect(summariseTrace('tcp', '203.0.113.9', parseTraceroute(' 1  *\n 2  *\n')).summary).toMatch(/^no hop answered/);
  });

  it('places addresses', () => {
    expect(hopPlace('192.168.1.1')).toBe('inside');
    expect(hopPlace('fd00::1')).toBe('inside');
    expect(hopPlace('100.64.3.4')).toBe('provider-nat');
    expect(hopPlace('198.51.100.1')).toBe('beyond');
  });

  it('a missing tool is said, not failed', async () => {
    const r = await traceRoute({ address: '127.0.0.1', protocol: 'tcp', port: 9, env: { NETCHECK_TRACEROUTE: '/nonexistent/traceroute' } });
    expect(r).toMatchObject({ traced: false, hops: [], reached: false });
    expect(r.summary).toMatch(process.platform === 'linux' ? /^not traced: no traceroute found/ : /^not traced: tracing on the same protocol/);
  });

  it('never hands a name to the tool (it would resolve it outside the run)', async () => {
    const r = await traceRoute({ address: 'vendor.example', protocol: 'udp', port: 4201 });
    expect(r.traced).toBe(false);
  });
});

describe('captive-portal known answers', () => {
  it('parses --portal-expect', () => {
    expect(parseExpectation('204')).toEqual({ status: 204 });
    expect(parseExpectation('200:Success')).toEqual({ status: 200, body: 'Success' });
    expect(parseExpectation('Microsoft Connect Test')).toEqual({ body: 'Microsoft Connect Test' });
    expect(parseExpectation('999')).toBeUndefined();
    expect(parseExpectation('')).toBeUndefined();
  });
});

describe('path options on the command line', () => {
  it('bad --portal-url / --portal-expect / timer-only flags are one clear usage error (exit 2)', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runCli } = await import('../helpers/cli.js');
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-pathopts-'));
    try {
      const file = join(dir, 'c.yaml');
      // Loopback only: were an error missed, nothing would leave this host.
      writeFileSync(file, 'schema: netcheck/catalog/v1\nid: c\ntitle: C\nsource: t\nsections:\n  - id: s\n    name: S\n    lines:\n      - id: l\n        description: d\n        targets: [127.0.0.1]\n        ports: 9\n        checks: [{ kind: tcp }]\n');
      const cases: [string[], RegExp][] = [
        [['--portal-url', 'ftp://portal.example/'], /--portal-url must be an http:\/\/ URL/],
        [['--portal-url', 'not a url'], /--portal-url 'not a url' is not a URL/],
        [['--portal-url', 'http://portal.example/x'], /has no known answer: say what it answers with --portal-expect/],
        [['--portal-url', 'http://portal.example/x', '--portal-expect', '999'], /--portal-expect '999'/],
        [['--portal-expect', '204'], /--portal-expect needs --portal-url/],
        [['--udp-gaps', '2s'], /--udp-gaps is a timer option and needs --timers/],
      ];
      for (const [args, re] of cases) {
        const r = await runCli(['run', '--catalog', file, '--no-control', '--json', ...args]);
        expect(r.code, args.join(' ')).toBe(2);
        expect(r.stderr).toMatch(re);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
