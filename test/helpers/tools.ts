/**
 * External programs the tests spawn, found on PATH in one place (the list is
 * .ci/apt-packages.txt). A test that needs a missing program is skipped, never failed, with a
 * notice naming the program and its Debian package; `npm test` as root installs them first
 * (test/setup/install-tools.mjs).
 */
// @ts-expect-error -- a plain ES module shared with the installer, which runs before any build
import { findOnPath, packageOf } from '../setup/tools.mjs';

const noticed = new Set<string>();

/** Absolute path of `cmd` on PATH, or undefined. */
export function tool(cmd: string): string | undefined {
  return (findOnPath as (c: string) => string | undefined)(cmd);
}

/**
 * The paths of `cmds` when all are on PATH; otherwise undefined, after a loud notice (once per
 * `what`) saying which are missing, what is skipped and how to install them.
 */
export function needTools<const C extends string>(what: string, cmds: readonly C[]): Record<C, string> | undefined {
  const found = {} as Record<C, string>;
  const missing: string[] = [];
  for (const c of cmds) {
    const p = tool(c);
    if (p) found[c] = p;
    else missing.push(c);
  }
  if (missing.length === 0) return found;
  if (!noticed.has(what)) {
    noticed.add(what);
    const pkgs = [...new Set(missing.map((c) => (packageOf as (c: string) => string | undefined)(c) ?? c))];
    console.warn(`SKIPPED ${what}: ${missing.join(', ')} not on PATH (apt-get install -y --no-install-recommends ${pkgs.join(' ')}; \`npm test\` as root installs it)`);
  }
  return undefined;
}
