/**
 * The Report's types are the one definition of its JSON Schema (issue 13): the committed schema
 * (src/report/schema.generated.ts, schema/report.schema.json) must be what the types generate.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportJsonSchema } from '../../src/report/schema.js';
import { ROOT } from '../helpers/cli.js';

describe('report schema from the Report type', () => {
  it('the committed schema is what src/types.ts generates (npm run schema:report rewrites it)', () => {
    const generated = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'scripts/report-schema.mjs'), '--stdout'], { encoding: 'utf8', cwd: ROOT }));
    expect(reportJsonSchema(), 'the Report type changed: run `npm run schema:report`').toEqual(generated);
    expect(JSON.parse(readFileSync(join(ROOT, 'schema/report.schema.json'), 'utf8')), 'run `npm run schema:report`').toEqual(generated);
  }, 60_000);
});
