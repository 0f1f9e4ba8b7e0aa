/**
 * Types read off JSON Schemas, so that a schema the validator checks and the type the code reads
 * are one definition. Type-level only (json-schema-to-ts' `FromSchema` on `as const` schemas): no
 * code runs, so start-up pays nothing for it (a runtime schema builder such as TypeBox did).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * A kind's catalog options: JSON Schema properties, declared `as const` so that their TypeScript
 * type is read off the schema itself ({@link OptionsOf}).
 */
export type OptionSchemas = Readonly<Record<string, JSONSchema>>;

/**
 * The options a check of a kind with these properties may carry, as the catalog validator lets
 * them through (unknown keys are errors): a prober reads them without re-checking their types.
 */
export type OptionsOf<P extends OptionSchemas> = FromSchema<{ readonly type: 'object'; readonly properties: P; readonly additionalProperties: false }>;
