/**
 * The external programs the tests use, read from .ci/apt-packages.txt ("package command…" per
 * line), and where each is on PATH. Shared by the installer (install-tools.mjs, run by `npm test`)
 * and the tests' helper (test/helpers/tools.ts), so a tool is looked up in one way only.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const LIST_FILE = new URL('../../.ci/apt-packages.txt', import.meta.url);

/** @returns {{ pkg: string, commands: string[] }[]} */
export function toolTable() {
  const out = [];
  for (const raw of readFileSync(LIST_FILE, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [pkg, ...commands] = line.split(/\s+/);
    out.push({ pkg, commands });
  }
  return out;
}

/**
 * Absolute path of `cmd` on PATH (an executable regular file), or undefined. A `cmd` that is a path
 * (Debian's wine64 installs /usr/lib/wine/wine64, off PATH) is checked where it is.
 */
export function findOnPath(cmd, path = process.env.PATH ?? '') {
  if (cmd.includes('/')) return isExecutable(cmd) ? cmd : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function isExecutable(p) {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Debian package that provides `cmd`, per the list. */
export function packageOf(cmd) {
  return toolTable().find((t) => t.commands.includes(cmd))?.pkg;
}
