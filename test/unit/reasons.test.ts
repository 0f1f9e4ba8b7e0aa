/**
 * The reason registry (issue 13): README's table is the registry's, and no outcome names a reason
 * with a status the registry does not give it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASONS, reasonsMarkdown, type ReasonInfo } from '../../src/reasons.js';
import { ROOT } from '../helpers/cli.js';

describe('reasons registry (issue 13)', () => {
  it("README's table of reason codes is the registry's (node scripts/reasons-table.mjs writes it)", () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    const start = readme.search(/^\| reason \|/m);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, readme.indexOf('\n\n', start))).toBe(reasonsMarkdown());
  });

  it('every status written beside a literal reason in src/ is the status the registry gives it', () => {
    const files = readdirSync(`${ROOT}src`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const pairs: (readonly [string, string, string])[] = [];
    for (const f of files) {
      const text = readFileSync(`${ROOT}src/${f}`, 'utf8');
      // `status: 'x', reason: 'Y'` in an object, and `status = 'x'; reason = 'Y';` in a verdict.
      for (const m of text.matchAll(/status(?::|\s*=) '([a-z|]+)'[,;]\s*reason(?::|\s*=) '([A-Z][A-Z0-9_]+)'/g)) pairs.push([f, m[2]!, m[1]!]);
    }
    expect(pairs.length).toBeGreaterThan(2);
    const wrong = pairs.filter(([, code, status]) => {
      const info = (REASONS as Record<string, ReasonInfo>)[code];
      return !info || !(info.status === status || (Array.isArray(info.status) && info.status.includes(status)));
    });
    expect(wrong).toEqual([]);
  });
});
