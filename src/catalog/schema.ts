/**
 * The catalog format: its JSON Schema (exported for editors as schema/catalog.schema.json), the
 * TypeScript types read off that schema, and the defaults, in one place.
 *
 * A catalog is one vendor document: sections → documented lines → checks. Every entry cites the
 * source document it comes from. Values that differ per customer are parameters.
 *
 * One definition: each part of the schema is an `as const` object, and its type is read off it
 * with json-schema-to-ts' `FromSchema` (type-level only: start-up runs none of it, and the
 * validator stays the build's precompiled ajv code). A key added to the schema is in the type; a
 * key the code reads that the schema lacks does not compile. Each kind's check options come the
 * same way from its description (src/kinds/).
 */

import type { FromSchema } from 'json-schema-to-ts';
import { CHECK_OPTION_SCHEMAS } from '../probers/index.js';
import { DURATION_PATTERN } from '../util/duration.js';

export const CATALOG_SCHEMA_ID = 'netcheck/catalog/v1';

const idPattern = '^[a-z0-9][a-z0-9-]*$';

const portsSchema = {
  description: 'A port (443), a list ([80, 443]), a range or list as text ("4201-4264", "80,443"), or a parameter ("$data-ports").',
  anyOf: [
    { type: 'integer' },
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'integer' }, minItems: 1 },
  ],
} as const;

/** The keys every check has, whatever its kind. */
const checkCommon = {
  kind: { type: 'string' },
  // Overrides the line's ports for this check.
  ports: portsSchema,
  timeout: { type: 'string', pattern: DURATION_PATTERN, description: 'Per-probe deadline, e.g. 3s.' },
} as const;

/**
 * A check as the code outside a prober sees it: the common keys, and its kind's options (typed
 * per kind in src/kinds/, where the prober reads them). The schema proper is {@link checkSchema}.
 */
const CHECK = { type: 'object', required: ['kind'], properties: checkCommon } as const;

/** A check's schema: one branch per kind, with that kind's options (unknown keys are errors). */
function checkSchema(): Record<string, unknown> {
  return {
    type: 'object',
    required: ['kind'],
    properties: { kind: { type: 'string' } },
    discriminator: { propertyName: 'kind' },
    oneOf: Object.entries(CHECK_OPTION_SCHEMAS).map(([kind, opts]) => ({
      type: 'object',
      properties: { ...checkCommon, kind: { const: kind }, ...opts },
      additionalProperties: false,
    })),
  };
}

/**
 * The vendor document a catalog transcribes, so a reader can check each line's quote against the
 * vendor's own page: only what the document itself says (or links to), never guessed. The report
 * carries it as `SourceDocument`, with the catalog's `source` as `file`.
 */
const DOCUMENT = {
  type: 'object',
  description: 'The vendor document this catalog transcribes: title, URL where public, revision, date seen.',
  required: ['title'],
  additionalProperties: false,
  properties: {
    title: { type: 'string', minLength: 1 },
    publisher: { type: 'string', minLength: 1 },
    url: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'http(s) URL of the published document.' },
    revision: { type: 'string', minLength: 1 },
    seen: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Date the catalog was transcribed from the document, YYYY-MM-DD.' },
    note: { type: 'string', minLength: 1 },
  },
} as const;

const PARAMETER = {
  type: 'object',
  required: ['type', 'description'],
  additionalProperties: false,
  properties: {
    type: { enum: ['port', 'ports', 'string', 'hosts', 'enum', 'file'] },
    description: { type: 'string' },
    required: { type: 'boolean' },
    default: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'array', items: { type: 'string' } }] },
    // Where the customer finds the value; printed when a required parameter is missing.
    help: { type: 'string' },
    example: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
    // For `enum`.
    values: { type: 'array', items: { type: 'string' }, minItems: 1 },
  },
} as const;

const TIMER = {
  type: 'object',
  required: ['id', 'protocol', 'seconds', 'description', 'source'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: idPattern },
    protocol: { enum: ['tcp', 'udp', 'ws'] },
    // The idle time a flow must survive.
    seconds: { type: 'number', exclusiveMinimum: 0 },
    description: { type: 'string' },
    source: { type: 'string' },
    quote: { type: 'string' },
  },
} as const;

const SAMPLE = {
  type: 'object',
  additionalProperties: false,
  properties: {
    count: { type: 'integer', minimum: 1, maximum: 1024 },
    strategy: { enum: ['spread', 'random'] },
    seed: { type: 'integer' },
    // false: `--sweep` leaves this range sampled (e.g. an IPv6 /32, which no sweep could cover).
    sweep: { type: 'boolean' },
  },
} as const;

/**
 * Addresses published elsewhere by a third party, resolved at plan time. Amazon's ip-ranges.json
 * (`--ip-ranges FILE`): the prefixes of these services, in `region` (a region name or a `$param`;
 * unset = every region; CloudFront's GLOBAL prefixes always count). `maxRanges` caps how many
 * prefixes are probed without `--sweep` (spread over the list).
 */
const TARGETS_FROM = {
  type: 'object',
  required: ['awsIpRanges'],
  additionalProperties: false,
  properties: {
    awsIpRanges: {
      type: 'object',
      required: ['services'],
      additionalProperties: false,
      properties: {
        services: { type: 'array', items: { type: 'string', pattern: '^[A-Z0-9_]+$' }, minItems: 1, uniqueItems: true },
        region: { type: 'string', minLength: 1 },
        maxRanges: { type: 'integer', minimum: 1 },
      },
    },
  },
} as const;

const LINE = {
  type: 'object',
  // 'targets' is required unless 'targetsFrom' is given: checked in load.ts with the same message.
  required: ['id', 'description', 'checks'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: idPattern },
    description: { type: 'string' },
    role: { enum: ['primary', 'disaster-recovery', 'secondary', 'third-party'] },
    required: { type: 'boolean' },
    // When the line applies, as the document says it (e.g. "iOS only").
    condition: { type: 'string' },
    // Only probe this line when a parameter has this value.
    when: {
      type: 'object',
      required: ['param', 'equals'],
      additionalProperties: false,
      properties: { param: { type: 'string' }, equals: { type: 'string' } },
    },
    // IP addresses, CIDR ranges, host names, or `$param` references.
    targets: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    ports: portsSchema,
    protocol: { enum: ['tcp', 'udp'] },
    // The schema's items are checkSchema(): one branch per kind (catalogJsonSchema).
    checks: { type: 'array', items: CHECK, minItems: 1 },
    // How many probes must succeed: `all` (default) or `any` (default for sampled ranges).
    expect: { enum: ['all', 'any'] },
    sample: SAMPLE,
    source: { type: 'string' },
    quote: { type: 'string' },
    targetsFrom: TARGETS_FROM,
    // Who opens the connection. `outbound` (default): this network connects to the targets and is
    // probed. `inbound`: the targets connect to the customer's systems; that cannot be probed from
    // inside, so such checks are planned as skipped with why, and `allowlist` emits inbound rules.
    // `both`: probed outbound, and the inbound half is listed as skipped.
    direction: { enum: ['outbound', 'inbound', 'both'] },
  },
} as const;

const SECTION = {
  type: 'object',
  required: ['id', 'name', 'lines'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: idPattern },
    name: { type: 'string' },
    description: { type: 'string' },
    source: { type: 'string' },
    lines: { type: 'array', minItems: 1, items: LINE },
  },
} as const;

const CATALOG = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://netcheck.dev/schema/catalog-v1.json',
  title: 'netcheck catalog',
  description: 'One vendor firewall document as data: sections, documented lines, checks, parameters and timers.',
  type: 'object',
  required: ['schema', 'id', 'title', 'source', 'sections'],
  additionalProperties: false,
  properties: {
    schema: { const: CATALOG_SCHEMA_ID },
    id: { type: 'string', pattern: idPattern },
    title: { type: 'string', minLength: 1 },
    vendor: { type: 'string' },
    description: { type: 'string' },
    // Source document(s) this catalog transcribes.
    source: { type: 'string', minLength: 1 },
    document: DOCUMENT,
    parameters: {
      type: 'object',
      propertyNames: { pattern: idPattern },
      additionalProperties: PARAMETER,
    },
    timers: { type: 'array', items: TIMER },
    sections: { type: 'array', minItems: 1, items: SECTION },
  },
} as const;

/** JSON Schema (draft-07) of a catalog file. Unknown keys are errors everywhere. */
export function catalogJsonSchema(): Record<string, unknown> {
  const checks = { ...LINE.properties.checks, items: checkSchema() };
  const line = { ...LINE, properties: { ...LINE.properties, checks } };
  const section = { ...SECTION, properties: { ...SECTION.properties, lines: { ...SECTION.properties.lines, items: line } } };
  return { ...CATALOG, properties: { ...CATALOG.properties, sections: { ...CATALOG.properties.sections, items: section } } };
}

/** A catalog file, as its schema admits it. */
export type CatalogDef = Omit<FromSchema<typeof CATALOG>, 'sections'> & { sections: SectionDef[] };
export type SectionDef = Omit<FromSchema<typeof SECTION>, 'lines'> & { lines: LineDef[] };
/**
 * A documented line. `targets` may be left out of the file when `targetsFrom` supplies the
 * addresses; the loader then sets it to `[]`, so a loaded line always has it.
 */
export type LineDef = Omit<FromSchema<typeof LINE>, 'targets'> & { targets: string[] };
/** A check: its kind, ports and timeout, and its kind's options (typed in src/kinds/). */
export type CheckDef = FromSchema<typeof CHECK>;
export type ParamDef = FromSchema<typeof PARAMETER>;
export type ParamType = ParamDef['type'];
export type TimerDef = FromSchema<typeof TIMER>;
export type SampleDef = FromSchema<typeof SAMPLE>;
export type TargetsFromDef = FromSchema<typeof TARGETS_FROM>;
export type PortsValue = FromSchema<typeof portsSchema>;
/** The vendor document a catalog transcribes (the report's `SourceDocument`, without `file`). */
export type SourceDocumentDef = FromSchema<typeof DOCUMENT>;
