/**
 * Issue 11: every command checks its input the same way — one clear line on stderr, exit 2,
 * nothing on stdout and nothing sent. Catalog commands use a loopback catalog (never a vendor's).
 */
import { describe, expect, it } from 'vitest';
import { writeCatalog } from '../helpers/catalog.js';
import { runCli } from '../helpers/cli.js';

const ENV = { HTTP_PROXY: '', HTTPS_PROXY: '', http_proxy: '', https_proxy: '', ALL_PROXY: '', all_proxy: '' };
// Port 9 on loopback: nothing in these tests may get as far as sending to it.
const local = writeCatalog([{ id: 'a', targets: ['127.0.0.1'], ports: [9], checks: '[{ kind: tcp }]' }]);

async function refused(args: string[], why: RegExp): Promise<void> {
  const r = await runCli(args, { env: ENV, timeoutMs: 20_000 });
  expect(r.code, args.join(' ')).toBe(2);
  expect(r.stdout, args.join(' ')).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines, args.join(' ')).toHaveLength(1);
  expect(lines[0], args.join(' ')).toMatch(why);
}

describe('input checks agree across commands (issue 11)', () => {
  it('--sample and --max-targets must be whole numbers ≥ 1 for plan and run, as for probe', async () => {
    for (const cmd of [['plan', local], ['run', '--catalog', local, '--no-control'], ['probe', 'tcp', '127.0.0.0/30:9']]) {
      await refused([...cmd, '--sample', '0'], /^netcheck: --sample must be a whole number ≥ 1/);
      await refused([...cmd, '--sample', '-3'], /^netcheck: --sample must be a whole number ≥ 1/);
      await refused([...cmd, '--max-targets', '0'], /^netcheck: --max-targets must be a whole number ≥ 1/);
    }
  });

  it('--dns-server with a port out of range is refused (port 0 used to abort the process in c-ares)', async () => {
    await refused(['probe', 'dns', 'name.test', '--dns-server', '127.0.0.1:99999'], /^netcheck: --dns-server '127\.0\.0\.1:99999': port 99999 is out of range 1-65535/);
    await refused(['probe', 'dns', 'name.test', '--dns-server', '127.0.0.1:0'], /port 0 is out of range 1-65535/);
    await refused(['run', '--catalog', local, '--no-control', '--dns-server', '[::1]:70000'], /port 70000 is out of range/);
  });

  it("probe's kind flags go through the catalog schema, as a catalog's options do (issue 13: probers rely on it)", async () => {
    await refused(['probe', 'http', '127.0.0.1:9', '--path', 'health'], /^netcheck: target '127\.0\.0\.1:9': string "health" is not a request path; start it with \/, e\.g\. \/health$/);
    await refused(['probe', 'ws-hold', '127.0.0.1:9', '--path', 'x'], /is not a request path/);
  });

  it('a negative duration says it is negative (it used to be "Unknown arguments: 5, s")', async () => {
    await refused(['probe', 'tcp', '127.0.0.1:9', '--timeout', '-5s'], /^netcheck: --timeout: '-5s' is negative; a duration is a length of time/);
    await refused(['plan', local, '--timeout', '-5s'], /^netcheck: --timeout: '-5s' is negative/);
    await refused(['run', '--catalog', local, '--no-control', '--udp-recheck', '-1s'], /^netcheck: --udp-recheck: '-1s' is negative/);
  });

  it('`run FILE` says to use --catalog FILE; stray words are refused, not ignored', async () => {
    await refused(['run', local], new RegExp(`^netcheck: run takes the catalog with --catalog: netcheck run --catalog ${local.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    await refused(['run'], /^netcheck: run needs a catalog: netcheck run --catalog FILE/);
    await refused(['run', '--catalog', local, 'extra'], /^netcheck: unexpected argument 'extra'/);
    await refused(['plan', local, 'extra'], /^netcheck: unexpected argument 'extra'/);
    await refused([local, 'extra', '--no-control'], /^netcheck: unexpected argument 'extra'/);
    // `list CATALOG` takes one catalog (issue 15); a word after it is refused.
    await refused(['list', 'eschat', 'extra'], /^netcheck: Unknown argument: extra$/);
  });

  it('--format contradicting the --output extension is refused', async () => {
    await refused(['probe', 'tcp', '127.0.0.1:9', '--format', 'json', '-o', 'x.html'], /^netcheck: --format json and --output x\.html disagree/);
    await refused(['run', '--catalog', local, '--json', '-o', 'x.md'], /^netcheck: --format json and --output x\.md disagree/);
  });

  it('an unknown flag is refused by every command (`list --bogus` used to exit 0)', async () => {
    const commands: string[][] = [
      ['list'],
      ['validate', local],
      ['schema'],
      ['match', '192.0.2.1'],
      ['demo', '--loopback'],
      ['reflect'],
      ['idle', '--reflector', '127.0.0.1'],
      ['probe', 'tcp', '127.0.0.1:9'],
    ];
    for (const cmd of commands) await refused([...cmd, '--bogus'], /^netcheck: Unknown argument: bogus$/);
    // Catalog commands take catalog parameters as flags: an unknown one names the catalog's parameters.
    for (const cmd of [['plan', local], ['run', '--catalog', local, '--no-control'], [local, '--no-control'], ['allowlist', local], ['daemon', '--catalog', local, '--no-control']]) {
      await refused([...cmd, '--bogus', '1'], /^netcheck: (catalog 'test' has no parameter 'bogus'|--bogus: none of the catalogs)/);
    }
  });
});
