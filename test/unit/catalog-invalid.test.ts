/**
 * One fixture per catalog validation rule: test/fixtures/catalogs/invalid-<rule>.yaml with a
 * sibling .expected holding the exact error message ({KINDS} stands for the registered kinds).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
    expect(lines).toHaveLength(fixtures.length);
    for (const [i, f] of fixtures.entries()) {
      const expected = readFileSync(join(DIR, f.replace(/\.yaml$/, '.expected')), 'utf8')
        .trim()
        .replace('{KINDS}', Object.keys(CHECK_OPTION_SCHEMAS).join(', '));
      expect(lines[i]).toBe(`netcheck: test/fixtures/catalogs/${expected}`);
    }
  });

  it('validates every built-in catalog', async () => {
    const files = readdirSync(new URL('../../probes/', import.meta.url).pathname).filter((f) => f.endsWith('.yaml')).map((f) => `probes/${f}`);
    const r = await runCli(['validate', ...files]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
