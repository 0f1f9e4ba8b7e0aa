#!/usr/bin/env node
/**
 * First step of `npm test`: make sure the programs the tests use are installed. Missing ones are
 * installed from Debian when this runs as root with apt-get; otherwise it says which tests will be
 * skipped and why. Never fails the test run on a machine that cannot install, unless
 * NETCHECK_TEST_REQUIRE_TOOLS=1 (CI sets it: a CI run that skips the lab proves nothing).
 * NETCHECK_TEST_INSTALL=0 turns installing off (to see the suite's skips).
 */
import { spawnSync } from 'node:child_process';
import { findOnPath, toolTable } from './tools.mjs';

const require_ = process.env.NETCHECK_TEST_REQUIRE_TOOLS === '1';
const missingPkgs = () => toolTable().filter((t) => t.commands.some((c) => !findOnPath(c)));

let missing = missingPkgs();
if (missing.length === 0) process.exit(0);

const names = (ts) => ts.map((t) => `${t.pkg} (${t.commands.filter((c) => !findOnPath(c)).join(', ')})`).join(', ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const apt = findOnPath('apt-get');
const why = process.env.NETCHECK_TEST_INSTALL === '0' ? 'NETCHECK_TEST_INSTALL=0' : !isRoot ? 'not root' : !apt ? 'no apt-get on this machine' : undefined;

if (!why) {
  process.stderr.write(`npm test: installing Debian packages the tests need: ${names(missing)}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync(apt, args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  const ok = run(['update', '-qq']) && run(['install', '-y', '-qq', '--no-install-recommends', ...missing.map((t) => t.pkg)]);
  if (!ok) process.stderr.write('npm test: apt-get failed (see above)\n');
  missing = missingPkgs();
  if (missing.length === 0) process.exit(0);
}

const msg =
  `npm test: NOT INSTALLED: ${names(missing)}${why ? ` (${why})` : ''}.\n` +
  `  The tests that need them will be SKIPPED, each with a notice naming the tool.\n` +
  `  To run them: sudo apt-get install -y --no-install-recommends ${missing.map((t) => t.pkg).join(' ')}\n`;
process.stderr.write(msg);
process.exit(require_ ? 1 : 0);
