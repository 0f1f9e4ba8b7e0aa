/**
 * The catalog format: TypeScript types, their JSON Schema (exported for editors as
 * schema/catalog.schema.json), and the defaults, in one place.
 *
 * A catalog is one vendor document: sections → documented lines → checks. Every entry cites the
 * source document it comes from. Values that differ per customer are parameters.
 */

import { CHECK_OPTION_SCHEMAS } from '../probers/index.js';
import type { SourceDocument } from '../types.js';
import { DURATION_PATTERN } from '../util/duration.js';

export const CATALOG_SCHEMA_ID = 'netcheck/catalog/v1';

export type ParamType = 'port' | 'ports' | 'string' | 'hosts' | 'enum' | 'file';

export interface ParamDef {
  type: ParamType;
  description: string;
  required?: boolean;
  default?: string | number | string[];
  /** Where the customer finds the value; printed when a required parameter is missing. */
  help?: string;
  example?: string | number;
  /** For `enum`. */
  values?: string[];
}

export interface TimerDef {
  id: string;
  protocol: 'tcp' | 'udp' | 'ws';
  /** The idle time a flow must survive. */
  seconds: number;
  description: string;
  source: string;
  quote?: string;
}

export interface SampleDef {
  count?: number;
  strategy?: 'spread' | 'random';
  seed?: number;
  /** false: `--sweep` leaves this range sampled (e.g. an IPv6 /32, which no sweep could cover). */
  sweep?: boolean;
}

/** Options common to every check kind. */
export interface CheckBase {
  kind: string;
  /** Overrides the line's ports for this check. */
  ports?: PortsValue;
  timeout?: string;
}

export type PortsValue = number | string | number[];

export interface CheckDef extends CheckBase {
  [option: string]: unknown;
}

export interface LineDef {
  id: string;
  description: string;
  role?: 'primary' | 'disaster-recovery' | 'secondary' | 'third-party';
  required?: boolean;
  /** When the line applies, as the document says it (e.g. "iOS only"). */
  condition?: string;
  /** Only probe this line when a parameter has this value. */
  when?: { param: string; equals: string };
  /**
   * IP addresses, CIDR ranges, host names, or `$param` references. May be left out when
   * `targetsFrom` supplies the addresses; the loader then sets it to `[]`.
   */
  targets: string[];
  /** Addresses published elsewhere by a third party (e.g. Amazon's ip-ranges.json), resolved at plan time. */
  targetsFrom?: TargetsFromDef;
  /**
   * Who opens the connection. `outbound` (default): this network connects to the targets and is
   * probed. `inbound`: the targets connect to the customer's systems; that cannot be probed from
   * inside, so such checks are planned as skipped with why, and `allowlist` emits inbound rules.
   * `both`: probed outbound, and the inbound half is listed as skipped.
   */
  direction?: 'outbound' | 'inbound' | 'both';
  ports?: PortsValue;
  protocol?: 'tcp' | 'udp';
  checks: CheckDef[];
  /** How many probes must succeed: `all` (default) or `any` (default for sampled ranges). */
  expect?: 'all' | 'any';
  sample?: SampleDef;
  source?: string;
  quote?: string;
}

/** A source of targets published outside the catalog. */
export interface TargetsFromDef {
  /**
   * Amazon's ip-ranges.json (`--ip-ranges FILE`): the prefixes of these services, in `region` (a
   * region name or a `$param`; unset = every region; CloudFront's GLOBAL prefixes always count).
   * `maxRanges` caps how many prefixes are probed without `--sweep` (spread over the list).
   */
  awsIpRanges: { services: string[]; region?: string; maxRanges?: number };
}

export interface SectionDef {
  id: string;
  name: string;
  description?: string;
  source?: string;
  lines: LineDef[];
}

/**
 * The vendor document a catalog transcribes, so a reader can check each line's quote against the
 * vendor's own page: only what the document itself says (or links to), never guessed. The report
 * carries it as {@link SourceDocument}, with the catalog's `source` as `file`.
 */
export type SourceDocumentDef = Omit<SourceDocument, 'file'>;

export interface CatalogDef {
  schema: typeof CATALOG_SCHEMA_ID;
  id: string;
  title: string;
  vendor?: string;
  description?: string;
  /** Source document(s) this catalog transcribes. */
  source: string;
  /** Title, URL, revision and date seen of the source document (issue 16). */
  document?: SourceDocumentDef;
  parameters?: Record<string, ParamDef>;
  timers?: TimerDef[];
  sections: SectionDef[];
}

const idPattern = '^[a-z0-9][a-z0-9-]*$';

const portsSchema = {
  description: 'A port (443), a list ([80, 443]), a range or list as text ("4201-4264", "80,443"), or a parameter ("$data-ports").',
  anyOf: [
    { type: 'integer' },
    { type: 'string', minLength: 1 },
    { type: 'array', items: { type: 'integer' }, minItems: 1 },
  ],
} as const;

const checkCommon = {
  kind: { type: 'string' },
  ports: portsSchema,
  timeout: { type: 'string', pattern: DURATION_PATTERN, description: 'Per-probe deadline, e.g. 3s.' },
} as const;

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

/** JSON Schema (draft-07) of a catalog file. Unknown keys are errors everywhere. */
export function catalogJsonSchema(): Record<string, unknown> {
  return {
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
      source: { type: 'string', minLength: 1 },
      document: {
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
      },
      parameters: {
        type: 'object',
        propertyNames: { pattern: idPattern },
        additionalProperties: {
          type: 'object',
          required: ['type', 'description'],
          additionalProperties: false,
          properties: {
            type: { enum: ['port', 'ports', 'string', 'hosts', 'enum', 'file'] },
            description: { type: 'string' },
            required: { type: 'boolean' },
            default: { anyOf: [{ type: 'string' }, { type: 'integer' }, { type: 'array', items: { type: 'string' } }] },
            help: { type: 'string' },
            example: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
            values: { type: 'array', items: { type: 'string' }, minItems: 1 },
          },
        },
      },
      timers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'protocol', 'seconds', 'description', 'source'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: idPattern },
            protocol: { enum: ['tcp', 'udp', 'ws'] },
            seconds: { type: 'number', exclusiveMinimum: 0 },
            description: { type: 'string' },
            source: { type: 'string' },
            quote: { type: 'string' },
          },
        },
      },
      sections: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['id', 'name', 'lines'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: idPattern },
            name: { type: 'string' },
            description: { type: 'string' },
            source: { type: 'string' },
            lines: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                // 'targets' is required unless 'targetsFrom' is given: checked in load.ts with the same message.
                required: ['id', 'description', 'checks'],
                additionalProperties: false,
                properties: {
                  id: { type: 'string', pattern: idPattern },
                  description: { type: 'string' },
                  role: { enum: ['primary', 'disaster-recovery', 'secondary', 'third-party'] },
                  required: { type: 'boolean' },
                  condition: { type: 'string' },
                  when: {
                    type: 'object',
                    required: ['param', 'equals'],
                    additionalProperties: false,
                    properties: { param: { type: 'string' }, equals: { type: 'string' } },
                  },
                  targets: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
                  ports: portsSchema,
                  protocol: { enum: ['tcp', 'udp'] },
                  checks: { type: 'array', items: checkSchema(), minItems: 1 },
                  expect: { enum: ['all', 'any'] },
                  sample: {
                    type: 'object',
                    additionalProperties: false,
                    properties: {
                      count: { type: 'integer', minimum: 1, maximum: 1024 },
                      strategy: { enum: ['spread', 'random'] },
                      seed: { type: 'integer' },
                      sweep: { type: 'boolean' },
                    },
                  },
                  source: { type: 'string' },
                  quote: { type: 'string' },
                  targetsFrom: {
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
                  },
                  direction: { enum: ['outbound', 'inbound', 'both'] },
                },
              },
            },
          },
        },
      },
    },
  };
}
