/**
 * One fixture per catalog validation rule: test/fixtures/catalogs/invalid-<rule>.yaml with a
 * sibling .expected holding the exact error message ({KINDS} stands for the registered kinds).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../src/catalog/load.js';
import { CHECK_OPTION_SCHEMAS } from '../../src/probers/index.js';
import { CatalogError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

const DIR = new URL('../fixtures/catalogs/', import.meta.url).pathname;
const fixtures = readdirSync(DIR).filter((f) => f.startsWith('invalid-') && f.endsWith('.yaml'));

describe('catalog validation fixtures', () => {
  it('has a fixture for every rule', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
  });

  for (const f of fixtures) {
    it(f, () => {
      const expected = readFileSync(join(DIR, f.replace(/\.yaml$/, '.expected')), 'utf8')
        .trim()
        .replace('{KINDS}', Object.keys(CHECK_OPTION_SCHEMAS).join(', '));
      let err: unknown;
      try {
        parseCatalog(readFileSync(join(DIR, f), 'utf8'), f);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CatalogError);
      expect((err as CatalogError).message).toBe(expected);
      expect((err as CatalogError).exitCode).toBe(2);
    });
  }

  it('the minimal valid catalog loads', () => {
    const c = parseCatalog(readFileSync(join(DIR, 'valid-minimal.yaml'), 'utf8'), 'valid-minimal.yaml');
    expect(c.def.sections[0]!.lines.map((l) => l.id)).toEqual(['web', 'app']);
  });
});

describe('netcheck validate (CLI)', () => {
  it('exits 2 with one line naming file, line and key, and no stack trace', async () => {
    const r = await runCli(['validate', 'test/fixtures/catalogs/invalid-port-zero.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/invalid-port-zero\.yaml:12:16: sections\[0\]\.lines\[0\]\.ports: /);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('the built CLI (the schema validator precompiled at build time) gives the exact message of every fixture', async () => {
    // The unit tests above run from src/, where the schema is compiled by Ajv at run time; the
    // CLI runs dist/, which loads dist/catalog/catalog-validator.cjs written by `npm run build`.
    expect(existsSync(new URL('../../dist/catalog/catalog-validator.cjs', import.meta.url))).toBe(true);
    const r = await runCli(['validate', ...fixtures.map((f) => `test/fixtures/catalogs/${f}`)]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    // validate lists every problem of a file: the first one of each is the fixture's rule.
    const firstOf = (f: string): string | undefined => lines.find((l) => l.startsWith(`netcheck: test/fixtures/catalogs/${f}:`));
    for (const f of fixtures) {
      const expected = readFileSync(join(DIR, f.replace(/\.yaml$/, '.expected')), 'utf8')
        .trim()
        .replace('{KINDS}', Object.keys(CHECK_OPTION_SCHEMAS).join(', '));
      expect(firstOf(f)).toBe(`netcheck: test/fixtures/catalogs/${expected}`);
    }
    expect(lines.every((l) => fixtures.some((f) => l.startsWith(`netcheck: test/fixtures/catalogs/${f}:`)))).toBe(true);
  });

  it('validate reports every problem of a file, not only the first (issue 11)', async () => {
    // An unknown key, a port 70000 and an unknown kind, on three lines: three messages, in file order.
    const r = await runCli(['validate', 'test/fixtures/catalogs/several-errors.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `netcheck: test/fixtures/catalogs/several-errors.yaml:13:9: sections[0].lines[0].colour: unknown key 'colour' (allowed here: id, description, role, required, condition, when, targets, ports, protocol, checks, expect, sample, source, quote, targetsFrom, direction)`,
      'netcheck: test/fixtures/catalogs/several-errors.yaml:18:16: sections[0].lines[1].ports: port 70000 is out of range 1-65535',
      `netcheck: test/fixtures/catalogs/several-errors.yaml:24:26: sections[0].lines[2].checks[0].kind: 'carrier-pigeon' is not a probe kind; known kinds: ${Object.keys(CHECK_OPTION_SCHEMAS).join(', ')}`,
    ]);
    // A run still stops at the first, with one clear message.
    const run = await runCli(['run', '--catalog', 'test/fixtures/catalogs/several-errors.yaml']);
    expect([run.code, run.stderr.trim().split('\n').length]).toEqual([2, 1]);
  });

  it('YAML that attacks the parser is a catalog error, and validate goes on to the next file (issue 11)', async () => {
    const attacks = ['invalid-yaml-alias-bomb.yaml', 'invalid-yaml-unresolved-alias.yaml', 'invalid-yaml-too-deep.yaml'];
    const r = await runCli(['validate', ...attacks.map((f) => `test/fixtures/catalogs/${f}`), 'test/fixtures/catalogs/valid-minimal.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(3);
    expect(r.stdout).toMatch(/^test\/fixtures\/catalogs\/valid-minimal\.yaml: ok/);
    for (const f of attacks) {
      const run = await runCli(['run', '--catalog', `test/fixtures/catalogs/${f}`, '--no-control']);
      expect(run.code, f).toBe(2);
      expect(run.stderr, f).toMatch(new RegExp(`^netcheck: test/fixtures/catalogs/${f.replace('.', '\\.')}:\\d+(:\\d+)?: `));
    }
  });

  it('messages quote at most ~80 characters of an offending value; a huge file is refused unread (issue 11)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nc-long-'));
    const long = join(dir, 'long.yaml');
    writeFileSync(
      long,
      `schema: netcheck/catalog/v1\nid: long\ntitle: t\nsource: t\nsections:\n  - id: main\n    name: Main\n    lines:\n      - id: a\n        description: d\n        targets: [${'a'.repeat(100_000)}.example]\n        role: ${'b'.repeat(5000)}\n        ${'k'.repeat(900)}: 1\n        ports: [443]\n        checks: [{ kind: tcp }]\n`,
    );
    const huge = join(dir, 'huge.yaml');
    writeFileSync(huge, `schema: netcheck/catalog/v1\n# ${'x'.repeat(17 * 1024 * 1024)}\n`);
    const r = await runCli(['validate', long, huge]);
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(l.length, l.slice(0, 120)).toBeLessThan(400);
      expect(l).not.toMatch(/a{81}|b{81}|k{81}/);
    }
    expect(lines[3]).toMatch(/huge\.yaml: the file is 17\.0 MiB; a catalog is at most 16 MiB/);
  });

  it('validates every built-in catalog', async () => {
    const files = readdirSync(new URL('../../probes/', import.meta.url).pathname).filter((f) => f.endsWith('.yaml')).map((f) => `probes/${f}`);
    const r = await runCli(['validate', ...files]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
