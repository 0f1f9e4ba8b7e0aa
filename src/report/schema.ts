/**
 * JSON Schema of the Report (schemaVersion 1): the public contract of `--json`.
 */
import { STATUSES } from '../types.js';

export function reportJsonSchema(): Record<string, unknown> {
  const status = { enum: [...STATUSES] };
  const verdict = { enum: ['pass', 'fail', 'partial', 'inconclusive'] };
  const counts = { type: 'object', propertyNames: status, additionalProperties: { type: 'integer' } };
  const phases = {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(['resolveMs', 'connectMs', 'tlsMs', 'firstByteMs', 'transferMs'].map((k) => [k, { type: 'number', minimum: 0 }])),
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://netcheck.dev/schema/report-v1.json',
    title: 'netcheck report',
    type: 'object',
    required: ['schemaVersion', 'tool', 'catalog', 'parameters', 'startedAt', 'finishedAt', 'durationMs', 'interrupted', 'diagnoses', 'summary', 'sections', 'lines', 'probes'],
    properties: {
      schemaVersion: { const: 1 },
      tool: { type: 'object', required: ['name', 'version'], properties: { name: { const: 'netcheck' }, version: { type: 'string' } } },
      catalog: {
        type: 'object',
        required: ['id', 'title', 'sources'],
        properties: {
          id: { type: 'string' },
          title: { type: 'string' },
          sources: { type: 'array', items: { type: 'string' } },
          file: { type: 'string' },
          document: {
            description: 'The vendor document the catalog transcribes (catalog `document`).',
            type: 'object',
            required: ['file', 'title'],
            additionalProperties: false,
            properties: Object.fromEntries(['file', 'title', 'publisher', 'url', 'revision', 'seen', 'note'].map((k) => [k, { type: 'string' }])),
          },
        },
      },
      parameters: { type: 'object', additionalProperties: { type: 'string' } },
      startedAt: { type: 'string', format: 'date-time' },
      finishedAt: { type: 'string', format: 'date-time' },
      durationMs: { type: 'number', minimum: 0 },
      interrupted: { type: 'boolean' },
      diagnoses: {
        type: 'array',
        items: {
          type: 'object',
          required: ['code', 'severity', 'message'],
          properties: { code: { type: 'string' }, severity: { enum: ['critical', 'warning'] }, message: { type: 'string' } },
        },
      },
      control: { type: 'object', required: ['target', 'status', 'reason'], properties: { target: { type: 'string' }, status, reason: { type: 'string' } } },
      summary: {
        type: 'object',
        required: ['verdicts', 'statuses', 'requiredFailing', 'requiredInconclusive', 'probes'],
        properties: {
          verdicts: { type: 'object', additionalProperties: { type: 'integer' } },
          statuses: counts,
          requiredFailing: { type: 'integer' },
          requiredInconclusive: { type: 'integer' },
          probes: { type: 'integer' },
        },
      },
      sections: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'name', 'source', 'lines'],
          properties: { id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, source: { type: 'string' }, lines: { type: 'array', items: { type: 'string' } } },
        },
      },
      lines: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'section', 'description', 'required', 'source', 'verdict', 'reason', 'probes', 'counts'],
          properties: {
            id: { type: 'string' },
            section: { type: 'string' },
            description: { type: 'string' },
            role: { type: 'string' },
            required: { type: 'boolean' },
            condition: { type: 'string' },
            source: { type: 'string' },
            verdict,
            reason: { type: 'string' },
            remediation: { type: 'string' },
            probes: { type: 'array', items: { type: 'string' } },
            counts,
            sampling: {
              type: 'array',
              items: {
                type: 'object',
                required: ['cidr', 'strategy', 'sampled', 'rangeSize'],
                properties: { cidr: { type: 'string' }, strategy: { enum: ['spread', 'random', 'all'] }, sampled: { type: 'integer' }, rangeSize: { type: 'string' }, seed: { type: 'integer' } },
              },
            },
            quote: { type: 'string', description: 'The row of the vendor document this line transcribes.' },
          },
        },
      },
      probes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'line', 'kind', 'host', 'status', 'reason', 'startedAt', 'durationMs', 'attempts'],
          properties: {
            id: { type: 'string' },
            line: { type: 'string' },
            kind: { type: 'string' },
            host: { type: 'string' },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            address: { type: 'string' },
            sampledFrom: { type: 'string' },
            status,
            reason: { type: 'string' },
            detail: { type: 'string' },
            phases,
            data: { type: 'object' },
            startedAt: { type: 'string' },
            durationMs: { type: 'number', minimum: 0 },
            attempts: { type: 'integer', minimum: 0 },
            internal: { type: 'boolean' },
            local: { type: 'boolean', description: 'the probe could not be sent because this host ran out of file descriptors' },
          },
        },
      },
      notApplicable: { type: 'array', items: { type: 'object', required: ['id', 'reason'], properties: { id: { type: 'string' }, reason: { type: 'string' } } } },
      notRun: { type: 'array', items: { type: 'object', required: ['id', 'reason'], properties: { id: { type: 'string' }, reason: { type: 'string' } } } },
      timers: {
        description: "The document's idle timers; when measured (--timers), the bracket, verdict and flows (see IdleFlowResult in src/types.ts).",
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'protocol', 'seconds', 'description', 'checked'],
          properties: {
            id: { type: 'string' },
            protocol: { type: 'string' },
            seconds: { type: 'number' },
            description: { type: 'string' },
            checked: { type: 'boolean' },
            note: { type: 'string' },
            probe: { type: 'string' },
            target: { type: 'string' },
            verdict,
            reason: { type: 'string' },
            requireMs: { type: 'number' },
            mode: { enum: ['reflector', 'hold'] },
            bracket: {
              type: 'object',
              required: ['consistent', 'text'],
              properties: { longestSurvivedMs: { type: 'number' }, shortestLostMs: { type: 'number' }, consistent: { type: 'boolean' }, text: { type: 'string' } },
            },
            flows: {
              type: 'array',
              items: {
                type: 'object',
                required: ['id', 'protocol', 'gapMs', 'state', 'survived', 'reason', 'detail'],
                properties: {
                  id: { type: 'string' },
                  protocol: { enum: ['tcp', 'udp', 'ws'] },
                  gapMs: { type: 'number' },
                  state: { enum: ['survived', 'lost', 'unproven', 'pending', 'error'] },
                  survived: { type: ['boolean', 'null'] },
                  lost: { enum: ['rst', 'silent-drop', 'icmp', 'nat-remapped', 'closed'] },
                  direction: { enum: ['during-gap', 'reflector-to-client', 'client-to-reflector'] },
                  reason: { type: 'string' },
                  detail: { type: 'string' },
                  seen: { type: 'string' },
                  seenAfter: { type: 'string' },
                  wakeLateMs: { type: 'number' },
                  lostAtMs: { type: 'number' },
                  closeCode: { type: 'integer' },
                },
              },
            },
          },
        },
      },
      environment: environmentSchema(),
      fixList: fixListSchema(),
    },
  };
}

/** "Ask your network team to allow" (issue 16): rules for the failing lines, and other fixes. */
function fixListSchema(): Record<string, unknown> {
  const str = { type: 'string' };
  const strs = { type: 'array', items: str };
  return {
    type: 'object',
    required: ['rules', 'instructions'],
    additionalProperties: false,
    properties: {
      rules: {
        type: 'array',
        items: {
          type: 'object',
          required: ['catalog', 'line', 'section', 'description', 'direction', 'protocol', 'ports', 'v4', 'v6', 'names', 'source'],
          additionalProperties: false,
          properties: {
            catalog: str,
            line: str,
            section: str,
            description: str,
            direction: { enum: ['outbound', 'inbound'] },
            protocol: { enum: ['tcp', 'udp'] },
            ports: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1, maximum: 65535 } },
            v4: strs,
            v6: strs,
            names: strs,
            source: str,
            quote: str,
            condition: str,
            from: str,
          },
        },
      },
      instructions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['line', 'description', 'code', 'targets', 'text'],
          additionalProperties: false,
          properties: {
            line: str,
            description: str,
            code: { enum: ['DNS_DRIFT', 'DNS_FAILURE', 'DNS_INTERCEPTION', 'TLS_INSPECTION', 'PROXY', 'WEB_FILTER', 'PATH_MTU', 'STALLED', 'MEDIA_QUALITY', 'SERVICE', 'LOCAL'] },
            targets: strs,
            text: str,
            quote: str,
          },
        },
      },
    },
  };
}

/** The environment fingerprint (issue 6): where a run happened. */
function environmentSchema(): Record<string, unknown> {
  const str = { type: 'string' };
  return {
    type: 'object',
    required: ['netcheckVersion', 'os', 'node', 'interfaces', 'defaultRoutes', 'dns', 'proxy', 'time'],
    additionalProperties: false,
    properties: {
      netcheckVersion: str,
      os: {
        type: 'object',
        required: ['platform', 'type', 'release', 'arch', 'hostname'],
        additionalProperties: false,
        properties: { platform: str, type: str, release: str, arch: str, hostname: str },
      },
      node: str,
      interfaces: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'addresses'],
          additionalProperties: false,
          properties: {
            name: str,
            addresses: {
              type: 'array',
              items: {
                type: 'object',
                required: ['address', 'family', 'internal'],
                additionalProperties: false,
                properties: { address: str, family: { enum: [4, 6] }, cidr: str, internal: { type: 'boolean' } },
              },
            },
          },
        },
      },
      interfacesSource: { enum: ['unknown'] },
      routeSource: { enum: ['proc', 'route print', 'netstat -rn', 'unknown'] },
      defaultRoutes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['family', 'interface', 'metric'],
          additionalProperties: false,
          properties: { family: { enum: [4, 6] }, interface: str, gateway: str, metric: { type: 'integer', minimum: 0 } },
        },
      },
      dns: {
        type: 'object',
        required: ['servers', 'source'],
        additionalProperties: false,
        properties: { servers: { type: 'array', items: str }, source: { enum: ['dns-server', 'resolv.conf', 'system', 'unknown'] }, search: { type: 'array', items: str } },
      },
      proxy: {
        type: 'array',
        items: { type: 'object', required: ['name', 'value'], additionalProperties: false, properties: { name: str, value: str } },
      },
      egress: { type: 'object', required: ['address', 'source'], additionalProperties: false, properties: { address: str, source: str } },
      time: {
        type: 'object',
        required: ['collectedAt', 'timeZone', 'utcOffsetMinutes'],
        additionalProperties: false,
        properties: { collectedAt: { type: 'string', format: 'date-time' }, timeZone: str, utcOffsetMinutes: { type: 'integer' } },
      },
    },
  };
}
