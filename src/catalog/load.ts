/**
 * Strict catalog loading: YAML → schema validation → semantic checks. The first problem found is
 * thrown as a {@link CatalogError} naming file, line and key; nothing half-valid is returned.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isIP } from 'node:net';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import { CatalogError } from '../errors.js';
import { parseCidr, parsePorts } from '../util/ip.js';
import { KINDS, PORTED_KINDS, URL_KINDS } from '../probers/index.js';
import { isUrlTarget, parseHostPort, parseUrlTarget } from '../trust/url.js';
import type { CatalogDef, PortsValue } from './schema.js';
import { catalogValidator } from './validator.js';

/** Kinds whose checks address a port. */

export interface LoadedCatalog {
  def: CatalogDef;
  file: string;
  /** Line number of a path inside the file (for errors found later, e.g. in expansion). */
  lineOf(path: (string | number)[]): number | undefined;
}

/** Read and validate a catalog file. */
export function loadCatalogFile(path: string, displayName = path): LoadedCatalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CatalogError('unreadable', { file: displayName }, `cannot read catalog: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseCatalog(text, displayName);
}

/** Validate catalog text. `file` is only used in messages. */
export function parseCatalog(text: string, file: string): LoadedCatalog {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const posOf = (offset: number | undefined): { line?: number; col?: number } => {
    if (offset === undefined) return {};
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const first = doc.errors[0];
  if (first) {
    const rule = first.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax';
    const msg = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    throw new CatalogError(rule, { file, ...posOf(first.pos[0]) }, rule === 'duplicate-key' ? 'duplicate key (each key may appear once)' : `YAML syntax error: ${msg}`);
  }
  const data: unknown = doc.toJS();
  const nodeAt = (path: (string | number)[]): Node | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node) return node;
    }
    return doc.contents ?? undefined;
  };
  const lineOf = (path: (string | number)[]): number | undefined => posOf(nodeAt(path)?.range?.[0]).line;
  const fail = (rule: string, path: (string | number)[], message: string, keyNode?: Node): never => {
    const node = keyNode ?? nodeAt(path);
    throw new CatalogError(rule, { file, ...posOf(node?.range?.[0]), key: formatPath(path) || undefined }, message);
  };

  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    fail('wrong-type', [], 'a catalog must be a YAML mapping with keys schema, id, title, source, sections');
  }
  const v = catalogValidator();
  if (!v(data)) {
    const err = pickError(v.errors ?? []);
    const path = pointerToPath(err.instancePath);
    explainAjvError(err, path, data, doc, fail);
  }
  const def = data as CatalogDef;
  semanticChecks(def, fail);
  return { def, file, lineOf };
}

type Fail = (rule: string, path: (string | number)[], message: string, keyNode?: Node) => never;

function formatPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** With a discriminated union ajv may report several errors; the most specific comes first. */
function pickError(errors: ErrorObject[]): ErrorObject {
  return errors.find((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf') ?? errors[0]!;
}

function getAt(data: unknown, path: (string | number)[]): unknown {
  let cur: unknown = data;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function explainAjvError(err: ErrorObject, path: (string | number)[], data: unknown, doc: Document, fail: Fail): never {
  const value = getAt(data, path);
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const parent = doc.getIn(path, true);
      let keyNode: Node | undefined;
      if (isMap(parent)) {
        for (const item of parent.items) {
          if (isPair(item) && isScalar(item.key) && String(item.key.value) === key) keyNode = item.key as Node;
        }
      }
      const allowed = allowedKeys(err);
      return fail('unknown-key', [...path, key], `unknown key '${key}'${allowed ? ` (allowed here: ${allowed})` : ''}`, keyNode);
    }
    case 'required':
      return fail('missing-key', path, `missing required key '${String(params.missingProperty)}'`);
    case 'type':
      return fail('wrong-type', path, `expected ${String(params.type)}, got ${describe(value)}`);
    case 'enum':
      return fail('bad-value', path, `${describe(value)} is not allowed; use one of: ${(params.allowedValues as unknown[]).join(', ')}`);
    case 'const':
      return fail('bad-value', path, `must be ${JSON.stringify(params.allowedValue)}, got ${describe(value)}`);
    case 'pattern':
      return fail('bad-value', path, /ms\|s\|m\|h/.test(String(params.pattern))
        ? `${describe(value)} is not a duration; use a unit, e.g. 500ms, 3s, 12m`
        : String(params.pattern) === '^[A-Z0-9_]+$'
          ? `${describe(value)} is not an ip-ranges.json service name; use capitals as Amazon does, e.g. EC2, CLOUDFRONT`
          : String(params.pattern).startsWith('^\\$')
            ? `${describe(value)} must name a parameter, e.g. $office-ips`
            : String(params.pattern).startsWith('^https?')
              ? `${describe(value)} is not an http(s) URL, e.g. https://vendor.example/firewall`
              : String(params.pattern).startsWith('^\\d{4}')
                ? `${describe(value)} is not a date; use YYYY-MM-DD, e.g. 2026-11-22`
                : `${describe(value)} must be lower-case letters, digits and dashes`);
    case 'discriminator': {
      const kinds = KINDS.join(', ');
      return fail('unknown-kind', [...path, 'kind'], `'${String(getAt(data, [...path, 'kind']))}' is not a probe kind; known kinds: ${kinds}`);
    }
    case 'minItems':
      return fail('wrong-type', path, `must list at least ${String(params.limit)} item(s)`);
    case 'anyOf':
      return fail('wrong-type', path, `${describe(value)} is not valid here: ${err.parentSchema?.description ?? 'wrong type'}`);
    default:
      return fail('bad-value', path, `${describe(value)}: ${err.message ?? 'invalid'}`);
  }
}

function allowedKeys(err: ErrorObject): string | undefined {
  const props = (err.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props).join(', ') : undefined;
}

const HOSTNAME_RE = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/i;

/** Is this a syntactically valid DNS host name (not an IP literal)? */
export function isHostname(s: string): boolean {
  return HOSTNAME_RE.test(s) && !/^[\d.]+$/.test(s);
}

function semanticChecks(def: CatalogDef, fail: Fail): void {
  const params = def.parameters ?? {};
  for (const [name, p] of Object.entries(params)) {
    const at = ['parameters', name];
    if (p.type === 'enum' && !p.values) fail('param-default', [...at, 'type'], `an enum parameter needs 'values'`);
    if (p.default !== undefined) {
      const problem = paramValueProblem(p.type, p.default, p.values);
      if (problem) fail('param-default', [...at, 'default'], `default does not fit type ${p.type}: ${problem}`);
    }
    if (p.required && p.default !== undefined) fail('param-default', [...at, 'default'], 'a required parameter cannot have a default');
  }

  // Sections, lines and timers are three id namespaces: each id is unique within its own.
  const seen = new Map<string, string>();
  const unique = (ns: string, id: string, path: (string | number)[]): void => {
    const prev = seen.get(`${ns}:${id}`);
    if (prev) fail('duplicate-id', path, `${ns} id '${id}' is already used at ${prev}`);
    seen.set(`${ns}:${id}`, formatPath(path));
  };
  def.timers?.forEach((t, i) => unique('timer', t.id, ['timers', i, 'id']));

  def.sections.forEach((sec, si) => {
    unique('section', sec.id, ['sections', si, 'id']);
    sec.lines.forEach((line, li) => {
      const at: (string | number)[] = ['sections', si, 'lines', li];
      // 'targets' may be left out only when 'targetsFrom' supplies the addresses (same message as the schema's).
      if (line.targets === undefined) {
        if (!line.targetsFrom) fail('missing-key', at, `missing required key 'targets'`);
        line.targets = [];
      }
      unique('line', line.id, [...at, 'id']);
      if (line.when) {
        const p = params[line.when.param];
        if (!p) fail('unknown-param', [...at, 'when', 'param'], `no parameter named '${line.when.param}' (declare it under parameters)`);
        if (p.type === 'enum' && !p.values?.includes(line.when.equals)) {
          fail('bad-value', [...at, 'when', 'equals'], `'${line.when.equals}' is not one of ${p.values?.join(', ')}`);
        }
      }
      let hasCidr = false;
      let hasName = false;
      line.targets.forEach((t, ti) => {
        const tp = [...at, 'targets', ti];
        if (t.startsWith('$')) {
          const p = params[t.slice(1)];
          if (!p) fail('unknown-param', tp, `no parameter named '${t.slice(1)}' (declare it under parameters)`);
          if (p.type !== 'hosts' && p.type !== 'string' && p.type !== 'file') fail('unknown-param', tp, `parameter '${t.slice(1)}' is of type ${p.type}; targets need a hosts or file parameter`);
          if (p.type === 'file') hasCidr = true;
          hasName = true;
          return;
        }
        if (isUrlTarget(t)) {
          // URL targets (revocation endpoints) are only meaningful to the kinds that fetch a URL.
          const other = line.checks.find((c) => !URL_KINDS.has(c.kind));
          if (other) fail('bad-target', tp, `'${t}' is a URL; only ${[...URL_KINDS].join(' and ')} checks take URL targets (this line also has a ${other.kind} check)`);
          const u = parseUrlTarget(t);
          if ('error' in u) fail('bad-target', tp, u.error);
          return;
        }
        if (line.checks.some((c) => URL_KINDS.has(c.kind))) {
          fail('bad-target', tp, `an ${line.checks.find((c) => URL_KINDS.has(c.kind))!.kind} check takes URL targets (e.g. http://ocsp.example.com), not '${t}'`);
        }
        const problem = targetProblem(t);
        if (problem) fail(problem.rule, tp, problem.message);
        if (t.includes('/')) hasCidr = true;
        if (isIP(t) === 0 && !t.includes('/')) hasName = true;
      });
      const region = line.targetsFrom?.awsIpRanges.region;
      if (line.targetsFrom) hasCidr = true;
      if (region?.startsWith('$')) {
        const p = params[region.slice(1)];
        if (!p) fail('unknown-param', [...at, 'targetsFrom', 'awsIpRanges', 'region'], `no parameter named '${region.slice(1)}' (declare it under parameters)`);
        if (p.type !== 'string' && p.type !== 'enum') fail('unknown-param', [...at, 'targetsFrom', 'awsIpRanges', 'region'], `parameter '${region.slice(1)}' is of type ${p.type}; a region needs a string parameter`);
      }
      if (line.sample && !hasCidr) fail('bad-value', [...at, 'sample'], `'sample' applies to CIDR ranges and this line has none`);
      if (line.ports !== undefined) portsCheck(line.ports, [...at, 'ports'], params, fail);
      line.checks.forEach((c, ci) => {
        const cp = [...at, 'checks', ci];
        if (c.ports !== undefined) portsCheck(c.ports, [...cp, 'ports'], params, fail);
        if (PORTED_KINDS.has(c.kind) && c.ports === undefined && line.ports === undefined) {
          fail('missing-key', cp, `a ${c.kind} check needs ports (on the check or on its line)`);
        }
        for (const key of ['disjointFrom', 'compareWith'] as const) {
          if (!Array.isArray(c[key])) continue;
          (c[key] as string[]).forEach((ref, ri) => {
            const p = params[ref.slice(1)];
            if (!p) fail('unknown-param', [...cp, key, ri], `no parameter named '${ref.slice(1)}' (declare it under parameters)`);
            if (p.type !== 'file') fail('unknown-param', [...cp, key, ri], `parameter '${ref.slice(1)}' is of type ${p.type}; ${key} needs file parameters (address lists)`);
          });
        }
        if (c.kind === 'ocsp') {
          if (typeof c.certFrom === 'string' && !parseHostPort(c.certFrom)) fail('bad-value', [...cp, 'certFrom'], `'${c.certFrom}' is not HOST[:PORT] (e.g. www.example.com:443)`);
          if (c.certFrom !== undefined && c.cert !== undefined) fail('bad-value', [...cp, 'certFrom'], `give either 'cert' (with 'issuer') or 'certFrom', not both`);
          if ((c.cert === undefined) !== (c.issuer === undefined)) fail('missing-key', cp, `an ocsp check with '${c.cert === undefined ? 'issuer' : 'cert'}' needs '${c.cert === undefined ? 'cert' : 'issuer'}' too`);
        }
        if (c.kind === 'dns' && !hasName) fail('bad-value', [...cp, 'kind'], 'a dns check needs at least one host name among the targets');
        if (c.kind === 'dns' && Array.isArray(c.expectAddresses)) {
          (c.expectAddresses as string[]).forEach((a, ai) => {
            const problem = targetProblem(a);
            if (problem || isHostname(a)) fail('bad-target', [...cp, 'expectAddresses', ai], problem?.message ?? `'${a}' is not an address or CIDR range`);
          });
        }
      });
    });
  });
}

/** Problems with one literal target (IP, CIDR or host name). */
export function targetProblem(t: string): { rule: string; message: string } | undefined {
  if (t.includes('/')) {
    try {
      parseCidr(t);
      return undefined;
    } catch (err) {
      const msg = (err as Error).message;
      return { rule: msg.includes('host bits') ? 'host-bits' : 'bad-target', message: msg };
    }
  }
  if (isIP(t) !== 0) return undefined;
  if (/^[\d.]+$/.test(t)) return { rule: 'bad-target', message: `'${t}' is not a valid IPv4 address` };
  if (!isHostname(t)) return { rule: 'bad-target', message: `'${t}' is not an IP address, CIDR range or host name` };
  return undefined;
}

function portsCheck(value: PortsValue, path: (string | number)[], params: NonNullable<CatalogDef['parameters']>, fail: Fail): void {
  if (typeof value === 'string' && value.startsWith('$')) {
    const p = params[value.slice(1)];
    if (!p) fail('unknown-param', path, `no parameter named '${value.slice(1)}' (declare it under parameters)`);
    if (p.type !== 'port' && p.type !== 'ports') fail('unknown-param', path, `parameter '${value.slice(1)}' is of type ${p.type}; ports need a port or ports parameter`);
    return;
  }
  try {
    portsOf(value);
  } catch (err) {
    fail('bad-port', path, (err as Error).message);
  }
}

/** Ports of a literal ports value. */
export function portsOf(value: PortsValue): number[] {
  if (Array.isArray(value)) return value.flatMap((v) => parsePorts(v));
  return parsePorts(value);
}

/** Why a parameter value does not fit its type; `undefined` when it does. */
export function paramValueProblem(type: string, value: unknown, values?: string[]): string | undefined {
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',').map((s) => s.trim()).filter(Boolean);
  try {
    switch (type) {
      case 'port': {
        const ports = parsePorts(String(value));
        if (ports.length !== 1) return `'${value}' is not a single port`;
        return undefined;
      }
      case 'ports':
        parsePorts(Array.isArray(value) ? value.join(',') : String(value));
        return undefined;
      case 'hosts':
        if (items.length === 0) return 'expected at least one host';
        for (const i of items) {
          const p = targetProblem(i);
          if (p) return p.message;
        }
        return undefined;
      case 'enum':
        return values?.includes(String(value)) ? undefined : `'${value}' is not one of ${values?.join(', ')}`;
      default:
        return undefined;
    }
  } catch (err) {
    return (err as Error).message;
  }
}

/** File name without directory, for citing in reports. */
export function displayName(path: string): string {
  return basename(path);
}
