/**
 * `netcheck eschat` as typed (issue 15): a required parameter that only some lines need is asked
 * for on a terminal; without one, every other line runs and the lines needing it are reported as
 * not checked, with where to find the value (exit 3). Built-in vendor catalogs are only planned;
 * runs use a loopback catalog.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, ROOT, runCli } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';
import { tcpServer, type Closeable } from '../helpers/servers.js';
import type { Report } from '../../src/types.js';


interface PlanRow {
  line: string;
  skip?: string;
}

describe('netcheck plan eschat without --signaling-port (piped, no terminal)', () => {
  it('plans every line and marks signaling as needing the port, with where to find it', async () => {
    const r = await runCli(['plan', 'eschat', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as PlanRow[];
    const lines = new Set(rows.map((x) => x.line));
    // Every documented line, then the interception control probe the run also sends (issue 10).
    expect([...lines]).toEqual(['provisioning-primary', 'provisioning-dr', 'signaling', 'data-primary', 'data-dr', 'web-portal', 'apns', 'google-maps', 'google-fonts', 'control']);
    const signaling = rows.filter((x) => x.line === 'signaling');
    expect(signaling.length).toBeGreaterThan(0);
    for (const s of signaling) {
      expect(s.skip).toContain('needs --signaling-port');
      expect(s.skip).toContain('Administrative Portal');
    }
    // Every other line is planned to be sent.
    expect(rows.filter((x) => x.line !== 'signaling' && x.skip)).toEqual([]);
  });

  it('says so at the top of the text plan', async () => {
    const r = await runCli(['plan', 'eschat']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/^not checked \(signaling\): needs --signaling-port: .*Administrative Portal.*\(e\.g\. --signaling-port 7400\)$/);
    expect(r.stdout).toMatch(/tcp +\$signaling-port +\(not checked: needs --signaling-port, see above\)/);
  });

  it('conversation-builder without --hosting: the hosting lines are not checked, the media lines are planned', async () => {
    const r = await runCli(['plan', 'conversation-builder', '--media-hosts', 'media.example.com', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as PlanRow[];
    expect(rows.filter((x) => x.line === 'liveperson-cloud-domain').every((x) => x.skip?.includes('needs --hosting'))).toBe(true);
    expect(rows.some((x) => x.line === 'media-domains' && !x.skip)).toBe(true);
    // With nothing else to send, the missing parameter stays one usage error.
    const none = await runCli(['plan', 'conversation-builder', '--json']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^netcheck: catalog 'conversation-builder' needs --hosting: /);
  });
});

const CATALOG = (port: number, everyLine = false): string => `schema: netcheck/catalog/v1
id: loop
title: loopback servers of the missing-parameter test
source: test
parameters:
  app-port:
    type: port
    required: true
    description: the app's TCP port
    help: Read it from the app's settings page.
    example: 9000
sections:
  - id: main
    name: Main
    lines:
      - id: web
        description: web server
        targets: [127.0.0.1]
        ports: ${everyLine ? '$app-port' : `[${port}]`}
        checks: [{ kind: tcp }]
      - id: app
        description: app server
        targets: [127.0.0.1]
        ports: $app-port
        checks: [{ kind: tcp }]
`;

describe('a run without a required parameter that one line needs', () => {
  let dir: string;
  let server: Closeable;
  let catalog: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'netcheck-missing-'));
    server = await tcpServer((s) => s.end());
    catalog = join(dir, 'loop.yaml');
    writeFileSync(catalog, CATALOG(server.port));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('piped: runs the other lines, reports the line as not checked with the instruction, exit 3', async () => {
    const out = join(dir, 'piped.json');
    const r = await runCli(['run', '--catalog', catalog, '--no-control', '--format', 'json', '--output', out]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("netcheck: not checking app: needs --app-port: the app's TCP port. Read it from the app's settings page. (e.g. --app-port 9000)");
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    const app = report.lines.find((l) => l.id === 'app')!;
    expect(report.lines.find((l) => l.id === 'web')?.verdict).toBe('pass');
    expect(app.verdict).toBe('inconclusive');
    expect(app.reason).toMatch(/^not checked: needs --app-port: .*settings page/);
    expect(app.remediation).toContain('needs --app-port');
  });

  it('when every line needs it, stays one clear usage error (exit 2)', async () => {
    const all = join(dir, 'all.yaml');
    writeFileSync(all, CATALOG(server.port, true));
    const r = await runCli(['run', '--catalog', all, '--no-control']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("netcheck: catalog 'loop' needs --app-port: the app's TCP port. Read it from the app's settings page. (e.g. --app-port 9000)");
  });

  // A real pseudo-terminal: util-linux `script` runs netcheck on a pty and relays our answers.
  const SCRIPT = needTools('terminal prompt tests (a real pseudo-terminal)', ['script'])?.script;
  const hasScript = SCRIPT !== undefined;

  /** Run on a pty; each answer is typed once the prompt before it has appeared. */
  function onTerminal(args: string[], answers: string[]): Promise<{ code: number | null; screen: string }> {
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return new Promise((resolve, reject) => {
      const child = spawn(SCRIPT!, ['-qec', cmd, '/dev/null'], { cwd: ROOT, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
      let screen = '';
      let prompts = 0;
      const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        screen += d;
        const seen = screen.split('app-port (e.g. 9000): ').length - 1;
        while (prompts < seen && prompts < answers.length) child.stdin.write(answers[prompts++]!);
      });
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(killer);
        resolve({ code, screen });
      });
    });
  }

  it.skipIf(!hasScript)('on a terminal: asks with where to find it, re-asks on a bad value, then checks the line', async () => {
    const out = join(dir, 'tty.json');
    const r = await onTerminal(['run', '--catalog', catalog, '--no-control', '--quiet', '--format', 'json', '--output', out], ['70000\r', `${server.port}\r`]);
    expect(r.screen).toContain("netcheck loop needs --app-port: the app's TCP port.");
    expect(r.screen).toContain("Read it from the app's settings page.");
    expect(r.screen).toContain('port 70000 is out of range 1-65535');
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.parameters).toEqual({ 'app-port': String(server.port) });
    expect(report.lines.map((l) => l.verdict)).toEqual(['pass', 'pass']);
  });

  it.skipIf(!hasScript)('on a terminal: Enter with no value leaves the line not checked (exit 3)', async () => {
    const out = join(dir, 'tty-empty.json');
    const r = await onTerminal(['run', '--catalog', catalog, '--no-control', '--quiet', '--format', 'json', '--output', out], ['\r']);
    expect(r.code).toBe(3);
    const report = JSON.parse(readFileSync(out, 'utf8')) as Report;
    expect(report.lines.find((l) => l.id === 'app')?.reason).toContain('not checked: needs --app-port');
  });

  it.skipIf(!hasScript)('on a terminal: Ctrl-C at the question exits 130 and sends nothing', async () => {
    const out = join(dir, 'tty-int.json');
    const r = await onTerminal(['run', '--catalog', catalog, '--no-control', '--quiet', '--format', 'json', '--output', out], ['\x03']);
    expect(r.code).toBe(130);
    expect(existsSync(out)).toBe(false);
  });
});
