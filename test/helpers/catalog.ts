import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
