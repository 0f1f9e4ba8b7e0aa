/**
 * The npm package (issue 15): `npm pack` output installs globally into a clean prefix under its
 * own name, and the `netcheck` it puts on PATH runs. Dependencies come from npm's cache when the
 * suite's `npm ci` filled it (--prefer-offline), else from the registry.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

it('npm pack installs globally into a clean prefix and `netcheck --version` runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-pack-'));
  try {
    const env = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
    const pack = spawnSync('npm', ['pack', '--pack-destination', dir, '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', env });
    expect(pack.status, pack.stderr).toBe(0);
    const tgz = join(dir, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
    // `netcheck` on npm is an unrelated package: ours is published as netcheck-cli, command netcheck.
    expect(tgz.endsWith(`netcheck-cli-${pkg.version}.tgz`)).toBe(true);
    const prefix = join(dir, 'prefix');
    const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tgz], { cwd: dir, encoding: 'utf8', env });
    expect(install.status, install.stderr).toBe(0);
    const bin = join(prefix, 'bin', 'netcheck');
    expect(existsSync(bin)).toBe(true);
    const version = spawnSync(bin, ['--version'], { cwd: dir, encoding: 'utf8', env });
    expect(version.stdout.trim()).toBe(pkg.version);
    // The installed package finds its built-in catalogs (probes/ shipped in the tarball).
    const list = spawnSync(bin, ['list', 'eschat', '--json'], { cwd: dir, encoding: 'utf8', env });
    expect(JSON.parse(list.stdout).name).toBe('eschat');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 240_000);

