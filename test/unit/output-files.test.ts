/**
 * Issue 11: files a run writes (--output, --prometheus-textfile, allowlist -o, the daemon's
 * reports folder) are checked before anything is sent, and written atomically for real: a full
 * disk, a read-only one and a missing folder are injected with tiny tmpfs mounts made here (root).
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../src/types.js';
import { writeCatalog } from '../helpers/catalog.js';
import { runCli, ROOT } from '../helpers/cli.js';
import { closedTcpPort, tcpServer, type Closeable } from '../helpers/servers.js';
import { needTools } from '../helpers/tools.js';

const root = process.getuid?.() === 0;
if (!root) console.warn('output-files.test.ts: NOT RUN — mounting tmpfs needs root (CI runs as root)');
const T = root ? needTools('output-files tests (tiny tmpfs disks, a FIFO)', ['mount', 'umount', 'mkfifo']) : undefined;
const isRoot = T !== undefined;

const base = mkdtempSync(join(tmpdir(), 'nc-out-'));
const mounts: string[] = [];
const closers: Closeable[] = [];

/** A tmpfs of `size` at a new folder under `base` (`ro` for a read-only one). */
function tmpfs(name: string, opts: string): string {
  const dir = join(base, name);
  mkdirSync(dir);
  execFileSync(T!.mount, ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fill `dir` until the disk is full, then free `leaveBytes` (so a write first comes up short). */
function fill(dir: string, leaveBytes: number): void {
  const fd = openSync(join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(4096, 0x61);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  }
  ftruncateSync(fd, Math.max(0, size - leaveBytes));
  closeSync(fd);
}

const leftovers = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

let closedPort = 0;
let connections = 0;
let listening: Closeable;

beforeAll(async () => {
  closedPort = await closedTcpPort();
  listening = await tcpServer(() => void connections++);
  closers.push(listening);
});

afterAll(async () => {
  for (const m of mounts.reverse()) execFileSync(T!.umount, [m]);
  rmSync(base, { recursive: true, force: true });
  await Promise.all(closers.map((c) => c.close()));
});

describe.runIf(isRoot)('--output is checked before anything is sent (issue 11)', () => {
  it('a missing folder, a folder, a path under a file, a read-only disk and a FIFO: exit 2, one line, nothing sent', async () => {
    const ro = tmpfs('ro', 'ro,size=64k');
    const file = join(base, 'plain-file');
    writeFileSync(file, 'x');
    const fifo = join(base, 'fifo');
    execFileSync(T!.mkfifo, [fifo]);
    const cases: [string, RegExp][] = [
      [join(base, 'no-such-folder', 'r.json'), /the folder .*no-such-folder does not exist/],
      [base, /is a folder; give a file name inside it/],
      [`${base}/`, /names a folder, not a file/],
      [join(file, 'r.json'), /plain-file is not a folder/],
      [join(ro, 'r.json'), /cannot create a file in .*\(EROFS: the file system is read-only\)/],
      [fifo, /is not a regular file/],
    ];
    for (const [out, why] of cases) {
      connections = 0;
      const r = await runCli(['probe', 'tcp', `127.0.0.1:${listening.port}`, '--output', out, '--json']);
      expect(r.code, out).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, out).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^netcheck: --output ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      expect(lines[0]).toMatch(why);
      expect(r.stdout).toBe('');
      expect(connections, `${out}: nothing sent`).toBe(0);
    }
    expect(statSync(fifo).isFIFO()).toBe(true);
    // The same check for the metrics textfile, allowlist -o and the daemon's reports folder.
    const tf = await runCli(['probe', 'tcp', `127.0.0.1:${listening.port}`, '--prometheus-textfile', join(ro, 'm.prom')]);
    expect([tf.code, tf.stderr]).toEqual([2, expect.stringMatching(/^netcheck: --prometheus-textfile .*EROFS.*\n$/)]);
    const al = await runCli(['allowlist', 'eschat', '--signaling-port', '7400', '--format', 'csv', '-o', join(ro, 'rules.csv')]);
    expect([al.code, al.stdout]).toEqual([2, '']);
    expect(al.stderr).toMatch(/^netcheck: --output .*EROFS/);
    // A catalog of loopback only: a daemon that did start would probe at once.
    const cat = writeCatalog([{ id: 'a', targets: ['127.0.0.1'], ports: [listening.port], checks: '[{ kind: tcp }]' }]);
    const dm = await runCli(['daemon', '--catalog', cat, '--no-control', '--reports-dir', join(ro, 'reports'), '--listen', '127.0.0.1:0'], { timeoutMs: 10_000 });
    expect(dm.code).toBe(2);
    expect(dm.stderr).toMatch(/^netcheck: --reports-dir .*\(EROFS/);
    expect(connections).toBe(0);
  });

  it('--format contradicting the --output extension is refused (exit 2)', async () => {
    const r = await runCli(['probe', 'tcp', `127.0.0.1:${closedPort}`, '--format', 'json', '-o', join(base, 'x.html')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^netcheck: --format json and --output .*x\.html disagree/);
    expect(existsSync(join(base, 'x.html'))).toBe(false);
  });
});

describe.runIf(isRoot)('writes are atomic on a disk that fills up (issue 11)', () => {
  it('every format: a short write is an error, the old file stays, no temporary file is left, the report goes to stdout, exit 74', async () => {
    const full = tmpfs('full', 'size=256k');
    for (const [format, ext] of [['json', 'json'], ['html', 'html'], ['markdown', 'md'], ['junit', 'xml'], ['text', 'txt']] as const) {
      const target = join(full, `report.${ext}`);
      writeFileSync(target, 'OLD REPORT\n');
      // 8 KiB left: the report's first write comes up short, the next one fails with ENOSPC. The
      // Markdown report summarises the 254 refused probes in under 2 KiB (issue 14): no space at all.
      fill(full, format === 'markdown' ? 0 : 8192);
      const r = await runCli(['probe', 'tcp', `127.0.0.0/24:${closedPort}`, '--no-control', '--verbose', '--format', format, '--output', target], { timeoutMs: 40_000 });
      expect(r.code, format).toBe(74);
      expect(r.stderr, format).toMatch(new RegExp(`netcheck: could not write the report to .*report\\.${ext} \\(ENOSPC: no space left on the device\\); the previous file, if any, is untouched, and the report \\(${format}\\) went to stdout instead\\n$`));
      expect(readFileSync(target, 'utf8'), format).toBe('OLD REPORT\n');
      expect(leftovers(full), format).toEqual([]);
      // The measured results were not lost: the whole report is on stdout.
      if (format === 'json') expect((JSON.parse(r.stdout) as Report).probes).toHaveLength(254);
      else if (format === 'markdown') expect(r.stdout, format).toMatch(/254 probes: 254 refused/);
      else expect(r.stdout.length, format).toBeGreaterThan(12 * 1024);
      rmSync(join(full, 'filler'));
      rmSync(target);
    }
  });

  it('the metrics textfile: same, while the report itself is written', async () => {
    const full = tmpfs('full-prom', 'size=64k');
    const prom = join(full, 'netcheck.prom');
    writeFileSync(prom, '# old metrics\n');
    fill(full, 0);
    const out = join(base, 'ok-report.json');
    const r = await runCli(['probe', 'tcp', `127.0.0.1:${closedPort}`, '--no-control', '--json', '--output', out, '--prometheus-textfile', prom]);
    expect(r.code).toBe(74);
    expect(r.stderr).toMatch(/could not write the metrics to .*netcheck\.prom \(ENOSPC: no space left on the device\); the previous file, if any, is untouched\n$/);
    expect(readFileSync(prom, 'utf8')).toBe('# old metrics\n');
    expect(leftovers(full)).toEqual([]);
    expect((JSON.parse(readFileSync(out, 'utf8')) as Report).probes[0]!.status).toBe('refused');
  });

  it('allowlist -o on a full disk: the rules go to stdout, the old file stays, exit 74', async () => {
    const full = tmpfs('full-allow', 'size=64k');
    const target = join(full, 'rules.nft');
    writeFileSync(target, 'old rules\n');
    fill(full, 0);
    const r = await runCli(['allowlist', 'liveperson', '--format', 'nft', '-o', target]);
    expect(r.code).toBe(74);
    expect(r.stdout).toContain('table inet filter');
    expect(readFileSync(target, 'utf8')).toBe('old rules\n');
    expect(leftovers(full)).toEqual([]);
  });

  it('a temporary file left by a writer killed with SIGKILL is removed by the next write to that folder', async () => {
    const dir = join(base, 'killed');
    mkdirSync(dir);
    const target = join(dir, 'report.json');
    // A real writer, killed mid-write with a real SIGKILL, using the temporary name writes use.
    const script = `import(${JSON.stringify(join(ROOT, 'dist/util/atomic.js'))}).then((m) => { const fs = require('node:fs'); const fd = fs.openSync(m.tempPathFor(${JSON.stringify(target)}), 'wx'); fs.writeSync(fd, '{"half": '); process.kill(process.pid, 'SIGKILL'); })`;
    const killed = await new Promise<string | null>((resolve) => spawn(process.execPath, ['-e', script], { stdio: 'ignore' }).on('exit', (_code, sig) => resolve(sig)));
    expect(killed).toBe('SIGKILL');
    expect(leftovers(dir)).toHaveLength(1);
    // A temporary file of a writer still alive (this process) is not touched.
    const alive = `.report.json.netcheck-${process.pid}-0123abcd.tmp`;
    writeFileSync(join(dir, alive), 'in progress');
    const r = await runCli(['probe', 'tcp', `127.0.0.1:${closedPort}`, '--no-control', '--json', '--output', target]);
    expect(r.code).toBe(1);
    expect(leftovers(dir)).toEqual([alive]);
    expect((JSON.parse(readFileSync(target, 'utf8')) as Report).probes).toHaveLength(1);
  });
});
