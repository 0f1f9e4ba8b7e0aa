import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

describe('layers only point down (issue 13)', () => {
  it('src/ has no import cycle and no import of a layer above (.dependency-cruiser.cjs)', async () => {
    const { cruise } = await import('dependency-cruiser');
    const config = require(`${ROOT}/.dependency-cruiser.cjs`) as Record<string, unknown>;
    const cwd = process.cwd();
    process.chdir(ROOT);
    try {
      const result = await cruise(['src'], { validate: true, ruleSet: config as never, tsConfig: { fileName: 'tsconfig.json' }, tsPreCompilationDeps: true, doNotFollow: { path: 'node_modules' } } as never);
      const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string; cycle?: { name: string }[] }[]; totalCruised: number } };
      const found = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
      expect(found).toEqual([]);
      // The check saw the whole tree, not an empty match.
      expect(output.summary.totalCruised).toBeGreaterThan(100);
    } finally {
      process.chdir(cwd);
    }
  }, 120_000);
});
