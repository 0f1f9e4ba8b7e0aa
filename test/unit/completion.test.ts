/**
 * `netcheck completion bash|zsh|fish` (issue 16), driven in the real shells: each script asks
 * netcheck what may come next, so commands, options, option choices and built-in catalog names
 * complete. Completing never runs the command being typed.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tool } from '../helpers/tools.js';
import { BIN, runCli } from '../helpers/cli.js';
import { tcpServer, type Closeable } from '../helpers/servers.js';

const which = (cmd: string): string | undefined => tool(cmd);
const BASH = which('bash');
const ZSH = which('zsh');
const FISH = which('fish');
for (const [name, path] of [['zsh', ZSH], ['fish', FISH]] as const) {
  if (!path) console.warn(`SKIPPING ${name} completion tests: ${name} is missing (apt-get install -y --no-install-recommends ${name}; CI installs it from .ci/apt-packages.txt)`);
}

/** A folder with `netcheck` on it, as an installed netcheck would be. */
const binDir = mkdtempSync(join(tmpdir(), 'netcheck-completion-'));
writeFileSync(join(binDir, 'netcheck'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
chmodSync(join(binDir, 'netcheck'), 0o755);
const ENV: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH ?? ''}`, HOME: binDir, XDG_CONFIG_HOME: binDir, XDG_DATA_HOME: binDir };
delete ENV.SHELL;

function shell(path: string, args: string[]): string {
  const r = spawnSync(path, args, { env: ENV, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('netcheck completion', () => {
  it('prints a script per shell, and refuses another shell (exit 2)', async () => {
    for (const sh of ['bash', 'zsh', 'fish']) {
      const r = await runCli(['completion', sh]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('netcheck --get-yargs-completions');
    }
    const bad = await runCli(['completion', 'powershell']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Choices: "bash", "zsh", "fish"/);
  });

  it.skipIf(!BASH)('bash: commands, built-in catalogs, a command’s options, an option’s choices', () => {
    const complete = (words: string[]): string[] => {
      const script = `source <(netcheck completion bash)\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}\n_netcheck_completions\nprintf '%s\\n' "\${COMPREPLY[@]}"`;
      return shell(BASH!, ['-c', script]).split('\n').filter(Boolean);
    };
    expect(complete(['netcheck', 'al'])).toEqual(['allowlist']);
    expect(complete(['netcheck', 'es'])).toEqual(['eschat']);
    expect(complete(['netcheck', 'allowlist', '--f'])).toEqual(['--fetch-ip-ranges', '--from-report', '--format']);
    expect(complete(['netcheck', 'diff', 'a.json', 'b.json', '--format', ''])).toEqual(['text', 'markdown', 'json']);
    expect(complete(['netcheck', 'completion', ''])).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
  });

  it.skipIf(!ZSH)('zsh: values with their descriptions, for _describe', () => {
    // compinit needs a terminal; stand-ins for compdef/_describe show what the function hands zsh.
    const script = `compdef() { :; }\n_describe() { print -rl -- "\${(@P)2}"; }\n_default() { print DEFAULT; }\nsource <(netcheck completion zsh)\nwords=(netcheck di); CURRENT=2; BUFFER="netcheck di"; CURSOR=11\n_netcheck_completions`;
    const out = shell(ZSH!, ['-f', '-c', script]).split('\n');
    expect(out).toContain('diff:what changed between two JSON reports of the same catalog, line by line (exit 1 when something got worse)');
    expect(out).toContain('eschat:built-in catalog');
    expect(out.some((l) => l.startsWith('$0'))).toBe(false);
  });

  it.skipIf(!FISH)('fish: complete -C', () => {
    const out = shell(FISH!, ['--no-config', '-c', 'netcheck completion fish | source; complete -C "netcheck al"; echo SEP; complete -C "netcheck diff a b --format "; echo SEP; complete -C "netcheck plan li"']);
    expect(out.split('SEP\n').map((b) => b.trim().split('\n'))).toEqual([['allowlist'], ['json', 'markdown', 'text'], ['liveperson']]);
  });
});

describe('completing a command line never runs it', () => {
  let server: Closeable;
  let connects = 0;
  beforeAll(async () => {
    server = await tcpServer((s: Socket) => {
      connects++;
      s.destroy();
    });
  });
  afterAll(async () => server?.close());

  it('`netcheck probe tcp HOST:PORT --t<TAB>` sends nothing, prints completions only, exit 0', () => {
    const r = spawnSync(join(binDir, 'netcheck'), ['--get-yargs-completions', 'netcheck', 'probe', 'tcp', `127.0.0.1:${server.port}`, '--t'], { env: ENV, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')).toContain('--timeout');
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('RESULT');
    expect(connects).toBe(0);
  });
});
