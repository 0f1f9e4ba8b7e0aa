/**
 * Strict catalog loading: YAML → schema validation → semantic checks. The first problem found is
 * thrown as a {@link CatalogError} naming file, line and key; nothing half-valid is returned.
 * `netcheck validate` asks for every problem of a file instead ({@link validateCatalogFile}).
 *
 * YAML that attacks the parser (an alias bomb, an alias to nothing, nesting deep enough to
 * overflow the stack, a file of gigabytes) is a catalog error like any other (issue 11).
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { isIP } from 'node:net';
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, visit, type Document, type Node } from 'yaml';
import { CatalogError } from '../errors.js';
import { parseCidr, parsePorts } from '../util/ip.js';
import { KINDS, PORTED_KINDS, URL_KINDS } from '../probers/index.js';
import { isUrlTarget, parseHostPort, parseUrlTarget } from '../trust/url.js';
import type { CatalogDef, PortsValue } from './schema.js';
import { catalogValidator, type CatalogValidator } from './validator.js';

export interface LoadedCatalog {
  def: CatalogDef;
  file: string;
  /** Line number of a path inside the file (for errors found later, e.g. in expansion). */
  lineOf(path: (string | number)[]): number | undefined;
}

/** Largest catalog file read: real ones are tens of KiB; address lists live in files of their own. */
export const MAX_CATALOG_BYTES = 16 * 1024 * 1024;

/** Read and validate a catalog file. */
export function loadCatalogFile(path: string, displayName = path): LoadedCatalog {
  return parseCatalog(readCatalogText(path, displayName), displayName);
}

/** Every problem of a catalog file (none: it is valid), the first one first, as `parseCatalog` would throw it. */
export function validateCatalogFile(path: string, displayName = path): { catalog?: LoadedCatalog; errors: CatalogError[] } {
  let text: string;
  try {
    text = readCatalogText(path, displayName);
  } catch (err) {
    if (err instanceof CatalogError) return { errors: [err] };
    throw err;
  }
  return check(text, displayName, true);
}

function readCatalogText(path: string, file: string): string {
  try {
    const size = statSync(path).size;
    if (size > MAX_CATALOG_BYTES) {
      throw new CatalogError('too-large', { file }, `the file is ${(size / 1024 / 1024).toFixed(1)} MiB; a catalog is at most ${MAX_CATALOG_BYTES / 1024 / 1024} MiB (long address lists belong in files given as parameters)`);
    }
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof CatalogError) throw err;
    throw new CatalogError('unreadable', { file }, `cannot read catalog: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Validate catalog text. `file` is only used in messages. */
export function parseCatalog(text: string, file: string): LoadedCatalog {
  return check(text, file, false).catalog!;
}

/**
 * The one validation. First-error mode (`all` false) throws the first problem; collecting mode
 * returns every problem it can find: all YAML errors, else every schema error and every semantic
 * error (each section, line, target and check checked on its own), the first-error mode's error
 * first so both agree on it.
 */
function check(text: string, file: string, all: boolean): { catalog?: LoadedCatalog; errors: CatalogError[] } {
  if (all) {
    let first: CatalogError | undefined;
    try {
      const catalog = check(text, file, false).catalog!;
      return { catalog, errors: [] };
    } catch (err) {
      if (!(err instanceof CatalogError)) throw err;
      first = err;
    }
    const errors: CatalogError[] = [];
    try {
      collect(text, file, errors);
    } catch (err) {
      if (!(err instanceof CatalogError)) throw err;
      errors.push(err);
    }
    const rest = errors.filter((e) => e.message !== first.message).sort((a, b) => (a.pos.line ?? 0) - (b.pos.line ?? 0) || (a.pos.col ?? 0) - (b.pos.col ?? 0));
    return { errors: [first, ...rest.filter((e, i) => rest.findIndex((x) => x.message === e.message) === i)] };
  }
  return { catalog: collect(text, file, undefined), errors: [] };
}

/**
 * Validate; with `errors` given, record problems there and go on where it can (then the result
 * is meaningless), else throw the first.
 */
function collect(text: string, file: string, errors: CatalogError[] | undefined): LoadedCatalog {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const posOf = (offset: number | undefined): { line?: number; col?: number } => {
    if (offset === undefined) return {};
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  for (const e of doc.errors) {
    const rule = e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : e.code === 'RESOURCE_EXHAUSTION' ? 'yaml-too-deep' : 'yaml-syntax';
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    // Where a stack overflows depends on the stack left, not on the file: only the line is stable.
    const pos = posOf(e.pos[0]);
    const err = new CatalogError(
      rule,
      { file, ...(rule === 'yaml-too-deep' ? { line: pos.line } : pos) },
      rule === 'duplicate-key' ? 'duplicate key (each key may appear once)' : rule === 'yaml-too-deep' ? 'the YAML nests too deeply to read (thousands of levels: not a catalog)' : `YAML syntax error: ${msg}`,
    );
    if (!errors) throw err;
    // A stack overflow is reported at every level it unwinds through: once is enough.
    if (rule !== 'yaml-too-deep' || !errors.some((x) => x.rule === rule)) errors.push(err);
  }
  // Nothing more can be checked in a document that did not parse (only reached when collecting).
  if (doc.errors.length) return undefined as never;
  const data: unknown = toData(doc, file, posOf);
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
  /** Run one independent part of the checks; when collecting, record its problem and go on. */
  let schemaErrors = 0;
  const part: Part = (fn) => {
    if (!errors) return fn();
    try {
      fn();
    } catch (err) {
      if (err instanceof CatalogError) errors.push(err);
      // Data the schema already rejected can trip a later check: the schema's message says why.
      else if (schemaErrors === 0) throw err;
    }
  };

  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    fail('wrong-type', [], 'a catalog must be a YAML mapping with keys schema, id, title, source, sections');
  }
  const v = catalogValidator(!!errors);
  if (!v(data)) {
    if (!errors) {
      const err = pickError(v.errors ?? []);
      explainAjvError(err, pointerToPath(err.instancePath), data, doc, fail);
    }
    for (const err of schemaProblems(v)) {
      schemaErrors++;
      part(() => explainAjvError(err, pointerToPath(err.instancePath), data, doc, fail));
    }
  }
  const def = data as CatalogDef;
  semanticChecks(def, fail, part);
  return { def, file, lineOf };
}

type Fail = (rule: string, path: (string | number)[], message: string, keyNode?: Node) => never;
/** Runs one independent part of the checks (see `collect`). */
type Part = (fn: () => void) => void;

/**
 * The document as plain data. An alias to an anchor that does not exist, or aliases expanding
 * without bound (a "billion laughs" bomb: yaml stops after 100 expansions), name the alias.
 */
function toData(doc: Document, file: string, posOf: (offset: number | undefined) => { line?: number; col?: number }): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const msg = (err as Error).message;
    const unresolved = /^Unresolved alias/.test(msg);
    if (!unresolved && !/alias count/i.test(msg)) throw err;
    let at: Node | undefined;
    visit(doc, {
      Alias(_, node) {
        if (!unresolved || !node.resolve(doc)) {
          at = node as unknown as Node;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    const name = at && isAlias(at) ? at.source : undefined;
    throw new CatalogError(
      unresolved ? 'yaml-alias' : 'yaml-alias-bomb',
      { file, ...posOf(at?.range?.[0]) },
      unresolved
        ? `YAML alias *${name ?? '?'} refers to no anchor &${name ?? '?'} defined before it`
        : 'YAML aliases expand without bound (an alias "bomb"): a catalog needs at most a few aliases, each expanded a few times',
    );
  }
}

/**
 * Every schema error worth a message, one per place: the most specific of each path, and none
 * for a path whose alternatives (anyOf) failed where a deeper error says more.
 */
function schemaProblems(v: CatalogValidator): ErrorObject[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of v.errors ?? []) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: ErrorObject[] = [];
  for (const [path, errs] of byPath) {
    const deeper = [...byPath.keys()].some((p) => p.startsWith(`${path}/`));
    if (deeper && errs.some((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')) continue;
    // Several unknown or missing keys at one place: each is its own message.
    const each = errs.filter((e) => e.keyword === 'additionalProperties' || e.keyword === 'required');
    out.push(...(each.length ? each : [pickError(errs)]));
  }
  return out;
}

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
                : String(params.pattern) === '^/'
                  ? `${describe(value)} is not a request path; start it with /, e.g. /health`
                  : String(params.pattern).startsWith('^(sha256')
                    ? `${describe(value)} is not a SHA-256 fingerprint (64 hex digits, colons allowed)`
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

/**
 * Checks the schema cannot express. Each parameter, timer, section, line, target and check is a
 * `part` of its own: when collecting every problem, one bad target does not hide the next.
 */
function semanticChecks(def: CatalogDef, fail: Fail, part: Part): void {
  const params = def.parameters ?? {};
  for (const [name, p] of Object.entries(params)) {
    part(() => {
      const at = ['parameters', name];
      if (p.type === 'enum' && !p.values) fail('param-default', [...at, 'type'], `an enum parameter needs 'values'`);
      if (p.default !== undefined) {
        const problem = paramValueProblem(p.type, p.default, p.values);
        if (problem) fail('param-default', [...at, 'default'], `default does not fit type ${p.type}: ${problem}`);
      }
      if (p.required && p.default !== undefined) fail('param-default', [...at, 'default'], 'a required parameter cannot have a default');
    });
  }

  // Sections, lines and timers are three id namespaces: each id is unique within its own.
  const seen = new Map<string, string>();
  const unique = (ns: string, id: string, path: (string | number)[]): void => {
    const prev = seen.get(`${ns}:${id}`);
    if (prev) fail('duplicate-id', path, `${ns} id '${id}' is already used at ${prev}`);
    seen.set(`${ns}:${id}`, formatPath(path));
  };
  def.timers?.forEach((t, i) => part(() => unique('timer', t.id, ['timers', i, 'id'])));

  def.sections.forEach((sec, si) => {
    part(() => unique('section', sec.id, ['sections', si, 'id']));
    sec.lines.forEach((line, li) => part(() => lineChecks(line, ['sections', si, 'lines', li])));
  });

  function lineChecks(line: CatalogDef['sections'][number]['lines'][number], at: (string | number)[]): void {
    // 'targets' may be left out only when 'targetsFrom' supplies the addresses (same message as the schema's).
    if (line.targets === undefined) {
      line.targets = [];
      if (!line.targetsFrom) fail('missing-key', at, `missing required key 'targets'`);
    }
    part(() => unique('line', line.id, [...at, 'id']));
    if (line.when) {
      part(() => {
        const p = params[line.when!.param];
        if (!p) fail('unknown-param', [...at, 'when', 'param'], `no parameter named '${line.when!.param}' (declare it under parameters)`);
        if (p.type === 'enum' && !p.values?.includes(line.when!.equals)) {
          fail('bad-value', [...at, 'when', 'equals'], `'${line.when!.equals}' is not one of ${p.values?.join(', ')}`);
        }
      });
    }
    let hasCidr = false;
    let hasName = false;
    line.targets.forEach((t, ti) => {
      // What the target is meant to be counts even when it is malformed: a dns check next to a
      // misspelt name is told about the name, not that it has no name.
      if (t.startsWith('$')) hasName = true;
      else if (t.includes('/')) hasCidr = true;
      else if (isIP(t) === 0 && !isUrlTarget(t)) hasName = true;
      part(() => targetChecks(line, t, [...at, 'targets', ti], () => (hasCidr = true)));
    });
    const region = line.targetsFrom?.awsIpRanges.region;
    if (line.targetsFrom) hasCidr = true;
    if (region?.startsWith('$')) {
      part(() => {
        const p = params[region.slice(1)];
        if (!p) fail('unknown-param', [...at, 'targetsFrom', 'awsIpRanges', 'region'], `no parameter named '${region.slice(1)}' (declare it under parameters)`);
        if (p.type !== 'string' && p.type !== 'enum') fail('unknown-param', [...at, 'targetsFrom', 'awsIpRanges', 'region'], `parameter '${region.slice(1)}' is of type ${p.type}; a region needs a string parameter`);
      });
    }
    if (line.sample && !hasCidr) part(() => fail('bad-value', [...at, 'sample'], `'sample' applies to CIDR ranges and this line has none`));
    if (line.ports !== undefined) part(() => portsCheck(line.ports!, [...at, 'ports'], params, fail));
    line.checks.forEach((c, ci) => part(() => checkChecks(line, c, [...at, 'checks', ci], hasName)));
  }

  function targetChecks(line: CatalogDef['sections'][number]['lines'][number], t: string, tp: (string | number)[], fileParam: () => void): void {
    if (t.startsWith('$')) {
      const p = params[t.slice(1)];
      if (!p) fail('unknown-param', tp, `no parameter named '${t.slice(1)}' (declare it under parameters)`);
      if (p.type !== 'hosts' && p.type !== 'string' && p.type !== 'file') fail('unknown-param', tp, `parameter '${t.slice(1)}' is of type ${p.type}; targets need a hosts or file parameter`);
      if (p.type === 'file') fileParam();
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
  }

  function checkChecks(line: CatalogDef['sections'][number]['lines'][number], c: CatalogDef['sections'][number]['lines'][number]['checks'][number], cp: (string | number)[], hasName: boolean): void {
    if (c.ports !== undefined) part(() => portsCheck(c.ports!, [...cp, 'ports'], params, fail));
    if (PORTED_KINDS.has(c.kind) && c.ports === undefined && line.ports === undefined) {
      fail('missing-key', cp, `a ${c.kind} check needs ports (on the check or on its line)`);
    }
    for (const key of ['disjointFrom', 'compareWith'] as const) {
      if (!Array.isArray(c[key])) continue;
      (c[key] as string[]).forEach((ref, ri) =>
        part(() => {
          const p = params[ref.slice(1)];
          if (!p) fail('unknown-param', [...cp, key, ri], `no parameter named '${ref.slice(1)}' (declare it under parameters)`);
          if (p.type !== 'file') fail('unknown-param', [...cp, key, ri], `parameter '${ref.slice(1)}' is of type ${p.type}; ${key} needs file parameters (address lists)`);
        }),
      );
    }
    if (c.kind === 'ocsp') {
      if (typeof c.certFrom === 'string' && !parseHostPort(c.certFrom)) fail('bad-value', [...cp, 'certFrom'], `'${c.certFrom}' is not HOST[:PORT] (e.g. www.example.com:443)`);
      if (c.certFrom !== undefined && c.cert !== undefined) fail('bad-value', [...cp, 'certFrom'], `give either 'cert' (with 'issuer') or 'certFrom', not both`);
      if ((c.cert === undefined) !== (c.issuer === undefined)) fail('missing-key', cp, `an ocsp check with '${c.cert === undefined ? 'issuer' : 'cert'}' needs '${c.cert === undefined ? 'cert' : 'issuer'}' too`);
    }
    if (c.kind === 'dns' && !hasName) fail('bad-value', [...cp, 'kind'], 'a dns check needs at least one host name among the targets');
    if (c.kind === 'dns' && Array.isArray(c.expectAddresses)) {
      (c.expectAddresses as string[]).forEach((a, ai) =>
        part(() => {
          const problem = targetProblem(a);
          if (problem || isHostname(a)) fail('bad-target', [...cp, 'expectAddresses', ai], problem?.message ?? `'${a}' is not an address or CIDR range`);
        }),
      );
    }
  }
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
