import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';

export interface LineSpec {
  id: string;
  targets: string[];
  ports?: number[];
  checks: string;
  extra?: string;
}

/** Write a small catalog to a temp file; returns its path. */
export function writeCatalog(lines: LineSpec[], id = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-test-'));
  const file = join(dir, `${id}.yaml`);
  const body = lines
    .map(
      (l) => `      - id: ${l.id}
        description: ${l.id}
        targets: [${l.targets.join(', ')}]
${l.ports ? `        ports: [${l.ports.join(', ')}]\n` : ''}        checks: ${l.checks}
${l.extra ?? ''}`,
    )
    .join('');
  writeFileSync(file, `schema: netcheck/catalog/v1\nid: ${id}\ntitle: test catalog\nsource: test\nsections:\n  - id: main\n    name: Main\n    lines:\n${body}`);
  return file;
}

/** One probe of `netcheck plan … --json`, as the tests read it. */
export interface PlanRow {
  id: string;
  line: string;
  kind: string;
  host: string;
  port: number | null;
  sampledFrom?: string;
  skip?: string;
  options?: Record<string, unknown>;
  required: boolean;
}

/**
 * `netcheck plan CATALOG ARGS --json`, which must succeed quietly: the catalog's probes only
 * (`--no-control`; the interception control row is tested on its own).
 */
export async function planJson(catalog: string, args: string[] = []): Promise<PlanRow[]> {
  const r = await runCli(['plan', catalog, ...args, '--json', '--no-control']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as PlanRow[];
}
