/**
 * The catalog format: TypeScript types, their JSON Schema (exported for editors as
 * schema/catalog.schema.json), and the defaults, in one place.
 *
 * A catalog is one vendor document: sections → documented lines → checks. Every entry cites the
 * source document it comes from. Values that differ per customer are parameters.
 */

import type { SourceDocument } from '../types.js';

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
const durationPattern = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$';

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
  timeout: { type: 'string', pattern: durationPattern, description: 'Per-probe deadline, e.g. 3s.' },
} as const;

const IDLE_OPTIONS = {
  require: { type: 'string', pattern: durationPattern, description: 'The idle time a flow must survive, e.g. 12m (default: the longest gap).' },
  gaps: {
    type: 'array',
    items: { type: 'string', pattern: durationPattern },
    minItems: 1,
    maxItems: 32,
    description: 'Staggered silent gaps, one flow each (default: derived from require, e.g. 12m → 2m,5m,8m,11m,12.5m,15m).',
  },
  mode: { enum: ['reflector', 'hold'], description: 'hold: the target is not a reflector; send nothing, only hold the flow (inconclusive by nature).' },
  grace: { type: 'string', pattern: durationPattern, description: "How late the reflector's send after a gap may arrive (default 5% of the longest gap, 2-5s)." },
  backWait: { type: 'string', pattern: durationPattern, description: "How long the client's answer after the gap waits for its reply (default 3s)." },
} as const;
const WS_OPTIONS = {
  tls: { type: 'boolean', description: 'wss instead of ws (default: wss on port 443).' },
  path: { type: 'string', pattern: '^/', description: 'Request path (default /netcheck, the reflector endpoint).' },
  fingerprint: { type: 'string', pattern: '^(sha256[:/])?[0-9A-Fa-f:]{64,95}$', description: "Pin the server certificate's SHA-256 fingerprint (a reflector's self-signed one)." },
} as const;

/**
 * Per-kind options of a check. Adding a probe kind adds one entry here (its options, strictly).
 */
export const CHECK_OPTION_SCHEMAS: Record<string, Record<string, unknown>> = {
  tcp: {},
  udp: {
    payload: { type: 'string', description: 'Datagram to send: text, or hex:0a0b… for bytes.' },
    expect: { type: 'string', description: 'Reply must contain this (text, or hex:…) to count as ok.' },
  },
  dns: {
    types: { type: 'array', items: { enum: ['A', 'AAAA'] }, minItems: 1, uniqueItems: true },
    /** Addresses or CIDR ranges the document pairs with this name (DNS drift). */
    expectAddresses: { type: 'array', items: { type: 'string' }, minItems: 1 },
  },
  http: {
    scheme: { enum: ['http', 'https'] },
    method: { enum: ['GET', 'HEAD'] },
    path: { type: 'string', pattern: '^/' },
    expectStatus: {
      type: 'array',
      items: { type: 'integer', minimum: 100, maximum: 599 },
      minItems: 1,
      description: 'Statuses that count as ok. Default: any HTTP response proves the path is open.',
    },
    blockStatuses: {
      type: 'array',
      items: { type: 'integer', minimum: 100, maximum: 599 },
      minItems: 1,
      description: 'Statuses that mean a block page (e.g. 403, 451 for a geo-block): reported as refused, HTTP_BLOCKED.',
    },
  },
  /** RFC 5389 binding request: discovers this network's public (egress) address. */
  stun: {
    /** Address lists (`$file-params`) the discovered address should be in, e.g. the office and agent IPs a client whitelisted. */
    compareWith: { type: 'array', items: { type: 'string', pattern: '^\\$[a-z0-9][a-z0-9-]*$' }, minItems: 1, uniqueItems: true },
  },
  /** No packets: an address list (a target) must not overlap the lists named here (`$file-params`). */
  'ip-list': {
    disjointFrom: { type: 'array', items: { type: 'string', pattern: '^\\$[a-z0-9][a-z0-9-]*$' }, minItems: 1, uniqueItems: true },
  },
  /** Idle-timer checks against a netcheck reflector (issue 3; docs/reflector.md). Durations as text: 12m, 90s. */
  'tcp-idle': IDLE_OPTIONS,
  'udp-idle': IDLE_OPTIONS,
  'ws-idle': { ...IDLE_OPTIONS, ...WS_OPTIONS },
  /** Hold a WebSocket open with the vendor's ping cadence; report whether, when and how it dropped. */
  'ws-hold': {
    ...WS_OPTIONS,
    hold: { type: 'string', pattern: durationPattern, description: 'How long to hold the connection (default 15m).' },
    pingEvery: { type: 'string', pattern: durationPattern, description: "The vendor's ping cadence (default 30s)." },
    pongTimeout: { type: 'string', pattern: durationPattern, description: 'A ping unanswered this long counts as silence (default 10s).' },
  },
  /**
   * Voice quality on a UDP port, against a netcheck reflector (issue 17): paced datagrams echoed
   * and counted, so loss, jitter, reordering and duplicates are known per direction; RTT and a MOS.
   */
  media: {
    pps: { type: 'integer', minimum: 1, maximum: 1000, description: 'Datagrams per second (default 50: G.711 at 20 ms).' },
    size: { type: 'integer', minimum: 40, maximum: 1400, description: 'Datagram size in bytes (default 172: 160 bytes of G.711 plus an RTP header).' },
    duration: { type: 'string', pattern: durationPattern, description: 'How long to stream (default 10s).' },
    maxLoss: { type: 'number', minimum: 0, maximum: 100, description: 'Loss in either direction, in percent, at or above which the check fails (default 1).' },
    maxRtt: { type: 'string', pattern: durationPattern, description: 'Average round trip at or above which the check fails (default 100ms).' },
    maxJitter: { type: 'string', pattern: durationPattern, description: 'RFC 3550 jitter in either direction at or above which the check fails (default 30ms).' },
  },
  /**
   * How the NAT maps and filters UDP (issue 17): against a netcheck reflector serving two UDP ports,
   * or a STUN server supporting RFC 5780 (two addresses).
   */
  nat: {
    server: { enum: ['reflector', 'stun'], description: 'The far end: a netcheck reflector (default) or a STUN server with RFC 5780 NAT discovery (e.g. coturn on two addresses).' },
    altPort: { type: 'integer', minimum: 1, maximum: 65535, description: "The reflector's second UDP port (default: the line's port + 1)." },
  },
  /** TLS handshake, presented chain, expiry, expected issuers, interception verdict (issue 4). */
  tls: {
    servername: { type: 'string', minLength: 1, description: 'SNI name (default: the target when it is a name).' },
    expectIssuers: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      minItems: 1,
      description: 'Issuer names the chain must contain (case-insensitive substrings, e.g. DigiCert); none matching is an interception reason.',
    },
    ca: { type: 'string', minLength: 1, description: 'PEM file of the expected root(s), instead of the Mozilla store.' },
    expiryWarnDays: { type: 'integer', minimum: 0, description: 'Report TLS_CERT_EXPIRING this many days before expiry (default 14).' },
    interceptionOnly: {
      type: 'boolean',
      description: "Judge only TLS interception (is the vendor's TLS re-signed on the way?): for bare addresses, probed without SNI, whose default certificate need not name them. Other certificate findings are recorded, not failed.",
    },
  },
  /** An OCSP responder, graded 1 TCP → 2 HTTP/OCSP answer → 3 valid signed status of a real certificate. Targets are URLs. */
  ocsp: {
    cert: { type: 'string', minLength: 1, description: 'PEM/DER certificate to ask about (level 3 needs it and issuer).' },
    issuer: { type: 'string', minLength: 1, description: "PEM/DER certificate of cert's issuer." },
    certFrom: { type: 'string', minLength: 1, description: 'HOST[:PORT] whose TLS chain supplies the certificate and issuer to ask about (instead of cert/issuer).' },
    maxBytes: { type: 'integer', minimum: 1024, description: 'Largest response read (default 64 KiB).' },
  },
  /** A CRL endpoint, graded 1 TCP → 2 HTTP answer → 3 a parsed, fresh CRL (signed by issuer when given). Targets are URLs. */
  crl: {
    issuer: { type: 'string', minLength: 1, description: "PEM/DER certificate of the CRL's issuer, to check its signature." },
    maxBytes: { type: 'integer', minimum: 1024, description: 'Largest CRL downloaded (default 20 MiB).' },
  },
};

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
