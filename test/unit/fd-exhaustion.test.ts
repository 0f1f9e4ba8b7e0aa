/**
 * Issue 11: running out of file descriptors is this host's condition, not the network's. The CLI
 * runs under a real `ulimit -n` (a shell sets it, then execs node), against real loopback sockets.
 */
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { writeCatalog } from '../helpers/catalog.js';
import { BIN, cliEnv, ROOT } from '../helpers/cli.js';
import { closedTcpPort, tcpServer, type Closeable } from '../helpers/servers.js';

const closers: Closeable[] = [];
afterAll(async () => void (await Promise.all(closers.map((c) => c.close()))));

/** The CLI with its file-descriptor limit lowered by the shell, as a user's `ulimit -n` would. */
function underUlimit(limit: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('sh', ['-c', `ulimit -n ${limit} && exec ${quoted}`], { cwd: ROOT, env: cliEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('out of file descriptors (issue 11)', () => {
  it('ulimit -n 128, a /20 sweep: the engine lowers its concurrency and re-sends, so no probe is an EMFILE error', async () => {
    const port = await closedTcpPort();
    const r = await underUlimit(128, ['probe', 'tcp', `127.0.0.0/20:${port}`, '--no-control', '--json', '--quiet']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.probes).toHaveLength(4094);
    // Every address answered with a reset, as without the limit: nothing is left as a local error.
    expect(report.summary.statuses).toEqual({ refused: 4094 });
    expect(report.probes.filter((p) => p.local)).toEqual([]);
    // One finding says what happened and what to do; it does not say results were lost.
    const fd = report.diagnoses.filter((d) => d.code === 'FD_EXHAUSTED');
    expect(fd).toHaveLength(1);
    expect(fd[0]!.severity).toBe('warning');
    expect(fd[0]!.message).toMatch(/ran out of file descriptors .*raise ulimit -n/);
    expect(r.code).toBe(1);
  });

  it('descriptors held by long probes: those that cannot be sent are local, inconclusive, with one finding (not a network verdict)', async () => {
    // 100 http probes to a peer that never answers hold their sockets for the whole 4 s deadline;
    // with ~40 descriptors to spare the rest cannot be sent however low the concurrency goes.
    const silent = await tcpServer((s) => s.resume());
    closers.push(silent);
    const file = writeCatalog(Array.from({ length: 100 }, (_, i) => ({ id: `hold${i}`, targets: ['127.0.0.1'], ports: [silent.port], checks: `[{ kind: http, scheme: http, path: /${i} }]` })));
    const r = await underUlimit(64, ['run', '--catalog', file, '--no-control', '--timeout', '4s', '--per-host', '200', '--json', '--quiet']);
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as Report;
    expect(report.probes).toHaveLength(100);
    const local = report.probes.filter((p) => p.local);
    const sent = report.probes.filter((p) => !p.local);
    expect(local.length).toBeGreaterThan(0);
    expect(sent.length).toBeGreaterThan(0);
    // What was sent is measured as usual; what could not be sent says so.
    expect(sent.every((p) => p.reason === 'HTTP_HEADERS_TIMEOUT')).toBe(true);
    expect(local.every((p) => p.status === 'error' && (p.reason === 'EMFILE' || p.reason === 'ENFILE') && /raise the limit \(ulimit -n\)/.test(p.detail ?? ''))).toBe(true);
    for (const p of local) {
      const line = report.lines.find((l) => l.id === p.line)!;
      expect(line.verdict).toBe('inconclusive');
      expect(line.reason).toContain('ran out of file descriptors');
    }
    const fd = report.diagnoses.filter((d) => d.code === 'FD_EXHAUSTED');
    expect(fd).toHaveLength(1);
    expect(fd[0]!.severity).toBe('critical');
    expect(fd[0]!.message).toMatch(/^this host ran out of file descriptors; raise ulimit -n/);
    // The connectivity headline judges only what was sent.
    const headline = report.diagnoses.find((d) => d.code === 'NO_OUTBOUND_CONNECTIVITY');
    if (headline) expect(headline.message).toContain(`${sent.length} probes`);
  });
});
