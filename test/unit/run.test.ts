/**
 * `netcheck run` end to end on loopback: concurrency and deadlines, Ctrl-C, atomic output,
 * run-level diagnoses, stdout purity.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { writeCatalog } from '../helpers/catalog.js';
import { runCli } from '../helpers/cli.js';
import { closedTcpPort, tcpServer, type Closeable } from '../helpers/servers.js';
import { byDeadline } from '../helpers/wait.js';

const closers: Closeable[] = [];
afterAll(async () => void (await Promise.all(closers.map((c) => c.close()))));

describe('netcheck run', () => {
  it('takes about as long as the slowest probe, not the sum', async () => {
    const hang = await tcpServer(() => undefined);
    closers.push(hang);
    const ports = Array.from({ length: 40 }, () => hang.port);
    // 40 distinct probes (different paths) that each stall until their 700 ms deadline.
    const file = writeCatalog(ports.map((p, i) => ({ id: `l${i}`, targets: ['127.0.0.1'], ports: [p], checks: `[{ kind: http, path: /${i} }]` })));
    const r = await runCli(['run', '--catalog', file, '--no-control', '--timeout', '700ms', '--json', '--per-host', '64']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.probes).toHaveLength(40);
    expect(report.probes.filter((p) => p.status !== 'timeout').map((p) => `${p.id} ${p.status} ${p.reason}`)).toEqual([]);
    // Sequential would be 40 deadlines (28 s); concurrent is about one (ten, on a starved machine).
    expect(report.durationMs).toBeLessThan(byDeadline(700, 10));
    expect(r.code).toBe(1);
  });

  it('respects the per-destination limit', async () => {
    let open = 0;
    let peak = 0;
    const srv = await tcpServer((s: Socket) => {
      open++;
      peak = Math.max(peak, open);
      s.on('close', () => open--);
      s.resume(); // a paused socket never sees the client's FIN, so it would never 'close'
    });
    closers.push(srv);
    const file = writeCatalog(Array.from({ length: 12 }, (_, i) => ({ id: `l${i}`, targets: ['127.0.0.1'], ports: [srv.port], checks: `[{ kind: http, path: /${i} }]` })));
    await runCli(['run', '--catalog', file, '--no-control', '--timeout', '300ms', '--json', '--per-host', '3']);
    expect(peak).toBeGreaterThan(0);
    // Without the limit all 12 would be open at once; one of slack because the server may see a
    // new connection a moment before it processes the previous one's close.
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('refusals are answers: destinations that refuse never make "no outbound connectivity"', async () => {
    // Before issue 10 two loopback hosts refusing raised the finding; a reset proves packets get out
    // and back. The finding itself, on real evidence (drops), is tested through the lab firewall
    // (test/lab/firewall.test.ts, test/lab/verdicts.test.ts).
    const closed = await closedTcpPort();
    const file = writeCatalog([
      { id: 'a', targets: ['127.0.0.1'], ports: [closed], checks: '[{ kind: tcp }]' },
      { id: 'b', targets: ['127.0.0.2'], ports: [closed], checks: '[{ kind: http }]' },
      { id: 'c', targets: ['127.0.0.3'], ports: [closed], checks: '[{ kind: tcp }]' },
    ]);
    const r = await runCli(['run', '--catalog', file, '--no-control', '--json']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.probes.map((p) => p.status)).toEqual(['refused', 'refused', 'refused']);
    expect(report.diagnoses).toEqual([]);
    expect(r.code).toBe(1);
    const one = await runCli(['probe', 'tcp', `127.0.0.1:${closed}`, '--json']);
    expect((JSON.parse(one.stdout) as Report).diagnoses).toEqual([]);
  });

  it('a control address that connects marks TCP-only passes inconclusive (interception)', async () => {
    const open = await tcpServer();
    closers.push(open);
    const file = writeCatalog([{ id: 'a', targets: ['127.0.0.1'], ports: [open.port], checks: '[{ kind: tcp }]' }]);
    const r = await runCli(['run', '--catalog', file, '--control', `127.0.0.1:${open.port}`, '--json']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.diagnoses.map((d) => d.code)).toContain('TCP_INTERCEPTION');
    expect(report.lines[0]!.verdict).toBe('inconclusive');
    expect(r.code).toBe(3);
    const closed = await closedTcpPort();
    const r2 = await runCli(['run', '--catalog', file, '--control', `127.0.0.1:${closed}`, '--json']);
    const report2 = JSON.parse(r2.stdout) as Report;
    expect(report2.control?.status).toBe('refused');
    expect(report2.lines[0]!.verdict).toBe('pass');
    expect(r2.code).toBe(0);
  });

  it('Ctrl-C: stops scheduling, settles what is in flight, writes the partial report atomically, exits 130', async () => {
    const hang = await tcpServer(() => undefined);
    closers.push(hang);
    const file = writeCatalog(Array.from({ length: 30 }, (_, i) => ({ id: `l${i}`, targets: ['127.0.0.1'], ports: [hang.port], checks: `[{ kind: http, path: /${i} }]` })));
    const out = join(dirname(file), 'partial.json');
    const r = await runCli(['run', '--catalog', file, '--no-control', '--timeout', '400ms', '--concurrency', '2', '--output', out, '--format', 'json'], { signalOnStderr: /netcheck test: \d+\/30 probes/ });
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(/internal error/);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.interrupted).toBe(true);
    expect(report.diagnoses[0]!.code).toBe('INTERRUPTED');
    expect(report.probes.length).toBeGreaterThan(0);
    expect(report.probes.length).toBeLessThan(30);
    // Probes in flight were allowed to finish: none was invented or cut short.
    expect(report.probes.filter((p) => p.status !== 'timeout').map((p) => `${p.id} ${p.status} ${p.reason}`)).toEqual([]);
    expect(report.lines.filter((l) => l.probes.length === 0).every((l) => l.verdict === 'inconclusive')).toBe(true);
    // Atomic: no temporary file left beside the report.
    expect(readdirSync(dirname(out)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--json: stdout carries only JSON; progress goes to stderr', async () => {
    const open = await tcpServer();
    closers.push(open);
    const file = writeCatalog([{ id: 'a', targets: ['127.0.0.1'], ports: [open.port], checks: '[{ kind: tcp }]' }]);
    const r = await runCli(['run', '--catalog', file, '--no-control', '--json']);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toContain('probes');
    expect(r.code).toBe(0);
  });

  it('refuses contradictory and malformed options with exit 2 and an example', async () => {
    const file = writeCatalog([{ id: 'a', targets: ['127.0.0.1'], ports: [1], checks: '[{ kind: tcp }]' }]);
    for (const args of [['-4', '-6'], ['--timeout', '3'], ['--json', '--format', 'text'], ['--concurrency', '0'], ['--control', 'nope']]) {
      const r = await runCli(['run', '--catalog', file, ...(args[0] === '--control' ? [] : ['--no-control']), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    const missing = await runCli(['run', '--catalog', join(dirname(file), 'nope.yaml')]);
    expect(missing.code).toBe(2);
    expect(existsSync(join(dirname(file), 'nope.yaml'))).toBe(false);
  });
});

describe('netcheck probe', () => {
  it('tcp over a port list, with the same statuses', async () => {
    const open = await tcpServer();
    closers.push(open);
    const closed = await closedTcpPort();
    const r = await runCli(['probe', 'tcp', `127.0.0.1:${open.port},${closed}`, '--json']);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.probes.map((p) => p.status).sort()).toEqual(['ok', 'refused']);
    expect(r.code).toBe(1);
  });
  it('bad targets are usage errors (exit 2)', async () => {
    for (const t of ['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1', '10.0.0.0/33:80', '10.0.0.0/8:80']) {
      const r = await runCli(['probe', 'tcp', t]);
      expect(r.code, t).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('probe sweeps a range up to --max-targets, or samples it with --sample N', async () => {
    const port = await closedTcpPort();
    const sampled = JSON.parse((await runCli(['probe', 'tcp', `127.0.0.0/16:${port}`, '--sample', '3', '--no-control', '--json'])).stdout) as Report;
    expect(sampled.probes.map((p) => [p.host, p.status])).toEqual([
      ['127.0.0.1', 'refused'],
      ['127.0.127.255', 'refused'],
      ['127.0.255.254', 'refused'],
    ]);
    expect(sampled.lines[0]!.sampling).toEqual([{ cidr: '127.0.0.0/16', strategy: 'spread', sampled: 3, rangeSize: '65536' }]);
    const capped = await runCli(['probe', 'tcp', `127.0.0.0/29:${port}`, '--max-targets', '4', '--no-control']);
    expect([capped.code, capped.stderr.trim()]).toEqual([
      2,
      `netcheck: target '127.0.0.0/29:${port}': 127.0.0.0/29 holds 8 addresses, more than the sweep cap of 4; sample it instead (--sample N) or raise the cap with --max-targets`,
    ]);
    expect((await runCli(['probe', 'tcp', '127.0.0.1:9', '--sample', '0'])).code).toBe(2);
  });

  it('probe refuses an unknown flag instead of ignoring it (exit 2, nothing sent)', async () => {
    // A typo like --pingevery would otherwise run with the default silently.
    const r = await runCli(['probe', 'tcp', '127.0.0.1:9', '--no-control', '--timout', '1s']);
    expect([r.code, r.stderr.trim()]).toEqual([2, 'netcheck: Unknown argument: timout']);
    expect(r.stdout).toBe('');
  });
});
