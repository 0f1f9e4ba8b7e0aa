/**
 * What a command imports (issue 13): every command reads the kinds' descriptions, but a run
 * imports only the probers of its kinds, with their libraries. `--version` imports no kind at all.
 */
import { createServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/cli.js';

const HOOK = pathToFileURL(`${ROOT}test/fixtures/imports/register.mjs`).href;

/** The modules a CLI run imported: dist/ paths (e.g. `probers/tcp.js`) and package names. */
async function importsOf(args: string[]): Promise<{ dist: string[]; packages: string[]; code: number | null }> {
  const r = await runCli(args, { env: { NODE_OPTIONS: `--import=${HOOK}` } });
  const urls = [...r.stderr.matchAll(/^IMPORTED (\S+)$/gm)].map((m) => m[1]!);
  expect(urls.length).toBeGreaterThan(3);
  const dist = [...new Set(urls.flatMap((u) => /\/dist\/(.+)$/.exec(u)?.[1] ?? []))];
  const packages = [...new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))];
  return { dist, packages, code: r.code };
}

// A port that accepts: the probe passes without any path phase after it.
const server = createServer((c) => c.destroy());
beforeAll(() => new Promise<void>((done) => server.listen(0, '127.0.0.1', done)));
afterAll(() => new Promise<void>((done) => server.close(() => done())));

describe('a command imports what it uses (issue 13)', () => {
  it('probe tcp imports the tcp prober and no other, and none of undici, ws or the X.509 stack', async () => {
    const port = (server.address() as AddressInfo).port;
    const { dist, packages, code } = await importsOf(['probe', 'tcp', `127.0.0.1:${port}`, '--json', '--quiet']);
    expect(code).toBe(0);
    const probers = dist.filter((p) => p.startsWith('probers/')).sort();
    expect(probers).toContain('probers/tcp.js');
    expect(probers.filter((p) => !['probers/index.js', 'probers/paths.js', 'probers/reasons.js', 'probers/tcp.js'].includes(p))).toEqual([]);
    // Every kind's description is read (the probe command's flags come from them).
    expect(dist).toContain('kinds/tls.js');
    expect(packages.filter((p) => ['undici', 'ws', 'pkijs', 'asn1js', '@peculiar/x509', 'ajv'].includes(p))).toEqual([]);
  });

  it('--version imports no kind and no prober', async () => {
    const { dist, code } = await importsOf(['--version']);
    expect(code).toBe(0);
    expect(dist.filter((p) => p.startsWith('probers/') || p.startsWith('kinds/'))).toEqual([]);
  });
});
