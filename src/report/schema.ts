/**
 * JSON Schema of the Report (schemaVersion 1): the public contract of `--json`. Generated from the
 * Report type (src/types.ts) by scripts/report-schema.mjs, so the types are its one definition;
 * test/unit/report-schema.test.ts fails when the committed schema is not what the types generate.
 */
import { REPORT_SCHEMA } from './schema.generated.js';

/** The Report's JSON Schema (a copy: callers may annotate it). */
export function reportJsonSchema(): Record<string, unknown> {
  return structuredClone(REPORT_SCHEMA) as Record<string, unknown>;
}
