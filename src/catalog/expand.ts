/**
 * Catalog + parameters → a plan: every probe the run will send, fully resolved. `netcheck plan`
 * prints exactly this and sends nothing.
 */
import { isIP } from 'node:net';
import { DEFAULTS } from '../constants.js';
import { UsageError } from '../errors.js';
import type { ProbeSpec, SamplingInfo } from '../types.js';
import { parseDuration } from '../util/duration.js';
import { kindDeadlineMs, kindOf, PORTED_KINDS, protocolOf } from '../probers/index.js';
import { expandCidr, formatPorts, hostPort, parseCidr, parsePorts, sampleCidr } from '../util/ip.js';
import { filterAwsPrefixes, awsRegions, type AwsIpRanges } from './awsIpRanges.js';
import { readIpList, type IpList } from './ipList.js';
import { isUrlTarget, parseUrlTarget } from '../trust/url.js';
import { paramValueProblem, portsOf, type LoadedCatalog } from './load.js';
import type { CatalogDef, LineDef, ParamDef, PortsValue, SectionDef } from './schema.js';

/** Why inbound checks are planned but never sent, with the rule to add. */
export function inboundSkipReason(from: string[], proto: string, ports: number[] | undefined): string {
  const who = from.length === 0 ? 'the documented addresses' : from.length > 3 ? `${from.slice(0, 3).join(', ')} and ${from.length - 3} more` : from.join(', ');
  const what = ports?.length ? ` on ${proto.toUpperCase()} ${formatPorts(ports)}` : '';
  return `inbound: ${who} connect in${what} to the systems the document protects; a test from this side cannot see that: allow it at that firewall (netcheck allowlist prints the rule)`;
}

/** Prefixes of a `targetsFrom.awsIpRanges` line probed without --sweep (spread over the list). */
export const AWS_MAX_RANGES_DEFAULT = 32;

export interface ExpandOptions {
  /** Parameter values from the command line (raw strings). */
  params: Record<string, string | undefined>;
  /** Probe every address of each range instead of a sample. */
  sweep?: boolean;
  /** Override the sample count of every range. */
  sampleCount?: number;
  timeoutMs?: number;
  maxSweepTargets?: number;
  /** Only include probes of these kinds. */
  kinds?: string[];
  /** How the user samples a range instead, for the too-large-to-sweep error (default: the catalog commands' flags). */
  sampleHint?: string;
  /** Amazon's ip-ranges.json, for lines with `targetsFrom.awsIpRanges` (`--ip-ranges FILE`). */
  awsIpRanges?: AwsIpRanges;
  /**
   * A required parameter that is not given: `error` (the default) refuses the catalog; `not-checked`
   * plans every line that does not need it and marks the lines that do as not checked, with where
   * to find the value — unless no line could run without it, which stays an error.
   */
  missingRequired?: 'error' | 'not-checked';
}

/** What a `targetsFrom.awsIpRanges` line drew from the ip-ranges file. */
export interface AwsRangesInfo {
  file: string;
  services: string[];
  region?: string;
  /** Prefixes matching the services (and region). */
  matched: number;
  /** Prefixes probed (all with --sweep, else at most maxRanges, spread over the list). */
  probed: number;
  /** Every matching prefix (allowlist and match use them all). */
  cidrs: string[];
}

export interface PlanLine {
  id: string;
  section: SectionDef;
  def: LineDef;
  probeIds: string[];
  sampling: SamplingInfo[];
  /** Set for `targetsFrom.awsIpRanges` lines when an ip-ranges file was given. */
  awsRanges?: AwsRangesInfo;
  /** Address lists read from `file` parameters among the targets. */
  lists?: IpList[];
  /**
   * Set when `--only` selected none of the line's checks: the line is not run (not inconclusive),
   * and says why.
   */
  notRun?: string;
}

export interface Plan {
  catalog: CatalogDef;
  file: string;
  params: Record<string, string>;
  lines: PlanLine[];
  /** Lines left out because a `when` condition did not hold. */
  notApplicable: { id: string; reason: string }[];
  probes: ProbeSpec[];
  /** Probes that will not be sent, with why (e.g. an optional parameter was not given). */
  skipped: Map<string, string>;
  /** Required parameters not given (with `missingRequired: 'not-checked'`) and the lines left unchecked for want of them. */
  missingParams: MissingParam[];
}

/** A required parameter that was not given, and what that leaves unchecked. */
export interface MissingParam {
  name: string;
  /** `needs --NAME: description. help (e.g. --NAME example)`: what to give and where to find it. */
  instruction: string;
  /** Ids of the lines that need it. */
  lines: string[];
}

/** The parameters a line uses: its `when`, `$name` targets and ports, AWS region, and list options. */
export function paramsOfLine(line: LineDef): Set<string> {
  const out = new Set<string>();
  const ref = (v: unknown): void => {
    if (typeof v === 'string' && v.startsWith('$')) out.add(v.slice(1));
  };
  if (line.when) out.add(line.when.param);
  line.targets.forEach(ref);
  ref(line.ports);
  ref(line.targetsFrom?.awsIpRanges?.region);
  for (const c of line.checks) {
    ref(c.ports);
    for (const k of LIST_OPTIONS) {
      const v = (c as Record<string, unknown>)[k];
      if (Array.isArray(v)) v.forEach(ref);
    }
  }
  return out;
}

/** Required parameters of a catalog that are absent from `given` and have no default. */
export function missingRequiredParams(def: CatalogDef, given: Record<string, string | undefined>): string[] {
  return Object.entries(def.parameters ?? {})
    .filter(([name, p]) => p.required && p.default === undefined && given[name] === undefined)
    .map(([name]) => name);
}

/**
 * Resolve parameters: defaults, required ones, type checks. Errors name the flag. Required ones
 * named in `allowMissing` are left out instead of refused.
 */
export function resolveParams(def: CatalogDef, given: Record<string, string | undefined>, allowMissing: ReadonlySet<string> = new Set()): Record<string, string> {
  const out: Record<string, string> = {};
  const declared = def.parameters ?? {};
  for (const name of Object.keys(given)) {
    if (given[name] !== undefined && !(name in declared)) {
      const known = Object.keys(declared);
      throw new UsageError(
        `catalog '${def.id}' has no parameter '${name}'${known.length ? `; its parameters: ${known.map((k) => `--${k}`).join(', ')}` : ' (it takes none)'}`,
        'NC_UNKNOWN_PARAM',
      );
    }
  }
  for (const [name, p] of Object.entries(declared)) {
    const raw = given[name] ?? (p.default === undefined ? undefined : Array.isArray(p.default) ? p.default.join(',') : String(p.default));
    if (raw === undefined) {
      if (p.required && !allowMissing.has(name)) throw missingParam(def, name, p);
      continue;
    }
    const problem = paramValueProblem(p.type, raw, p.values);
    if (problem) throw new UsageError(`--${name}: ${problem}`, 'NC_BAD_PARAM');
    out[name] = raw;
  }
  return out;
}

/** `needs --NAME: what it is. Where to find it. (e.g. --NAME 7400)` */
export function paramInstruction(name: string, p: ParamDef): string {
  const example = p.example !== undefined ? ` (e.g. --${name} ${p.example})` : '';
  return `needs --${name}: ${p.description}.${p.help ? ` ${p.help}` : ''}${example}`;
}

function missingParam(def: CatalogDef, name: string, p: ParamDef): UsageError {
  return new UsageError(`catalog '${def.id}' ${paramInstruction(name, p)}`, 'NC_MISSING_PARAM');
}

function resolvePorts(value: PortsValue, params: Record<string, string>): number[] | undefined {
  if (typeof value === 'string' && value.startsWith('$')) {
    const v = params[value.slice(1)];
    return v === undefined ? undefined : parsePorts(v);
  }
  return portsOf(value);
}

/** Expand a validated catalog into a plan. */
export function expandCatalog(cat: LoadedCatalog, opts: ExpandOptions): Plan {
  const def = cat.def;
  // Required parameters some lines can do without: those lines are planned as not checked.
  const missingParams: MissingParam[] = [];
  if (opts.missingRequired === 'not-checked') {
    const absent = missingRequiredParams(def, opts.params);
    if (absent.length) {
      const lines = def.sections.flatMap((s) => s.lines);
      const needs = new Map(lines.map((l) => [l.id, paramsOfLine(l)]));
      const runnable = lines.some((l) => !absent.some((n) => needs.get(l.id)!.has(n)));
      // Nothing could run without them: one clear error is better than a report of nothing.
      if (!runnable) throw missingParam(def, absent[0]!, def.parameters![absent[0]!]!);
      for (const name of absent) {
        missingParams.push({ name, instruction: paramInstruction(name, def.parameters![name]!), lines: lines.filter((l) => needs.get(l.id)!.has(name)).map((l) => l.id) });
      }
    }
  }
  const params = resolveParams(def, opts.params, new Set(missingParams.map((m) => m.name)));
  const timeoutDefault = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const cap = opts.maxSweepTargets ?? DEFAULTS.maxSweepTargets;
  const probes: ProbeSpec[] = [];
  const skipped = new Map<string, string>();
  const lines: PlanLine[] = [];
  const notApplicable: Plan['notApplicable'] = [];

  for (const section of def.sections) {
    for (const line of section.lines) {
      const wanting = missingParams.filter((m) => m.lines.includes(line.id));
      if (wanting.length) {
        // Not checked: one skipped probe per check, carrying what to give and where to find it.
        const pl: PlanLine = { id: line.id, section, def: line, probeIds: [], sampling: [] };
        lines.push(pl);
        for (const check of line.checks) {
          if (opts.kinds && !opts.kinds.includes(check.kind)) continue;
          const { kind, ports: _ports, timeout: _timeout, ...options } = check;
          const id = `${line.id}/${kind}/$${wanting[0]!.name}`;
          if (pl.probeIds.includes(id)) continue;
          pl.probeIds.push(id);
          probes.push({ id, line: line.id, kind, host: `$${wanting[0]!.name}`, options, timeoutMs: timeoutDefault });
          skipped.set(id, wanting.map((m) => m.instruction).join('; '));
        }
        continue;
      }
      if (line.when && params[line.when.param] !== line.when.equals) {
        notApplicable.push({ id: line.id, reason: `applies when ${line.when.param} is ${line.when.equals} (it is ${params[line.when.param] ?? 'unset'})` });
        continue;
      }
      const pl: PlanLine = { id: line.id, section, def: line, probeIds: [], sampling: [] };
      lines.push(pl);
      // A Set beside the list: `includes` made a 4,096-target sweep quadratic (~0.1 s of plan).
      const seen = new Set<string>();
      const add = (spec: ProbeSpec, skipReason?: string): void => {
        if (seen.has(spec.id)) return;
        seen.add(spec.id);
        pl.probeIds.push(spec.id);
        probes.push(spec);
        if (skipReason) skipped.set(spec.id, skipReason);
      };

      // Targets: literals, sampled or swept ranges, and parameter lists. `raw` keeps ranges whole
      // for kinds that send no packets to them (e.g. ip-list).
      const direction = line.direction ?? 'outbound';
      const targets: { host: string; sampledFrom?: string }[] = [];
      const raw: { host: string; sampledFrom?: string }[] = [];
      const missing: string[] = [];
      // Ranges are sampled only when some check sends packets to addresses (else sampling would also
      // switch the line to an `any` verdict).
      const sends = direction !== 'inbound' && line.checks.some((c) => PORTED_KINDS.has(c.kind));
      const addTarget = (h: string): void => {
        raw.push({ host: h });
        // A loop, not push(...spread): a swept /16 would pass 65,534 arguments.
        if (sends) for (const t of expandTarget(h, line, opts, cap, pl)) targets.push(t);
        else if (!h.includes('/')) targets.push({ host: h });
      };
      for (const t of line.targets) {
        if (t.startsWith('$')) {
          const name = t.slice(1);
          const v = params[name];
          if (v === undefined) missing.push(name);
          else if (def.parameters?.[name]?.type === 'file') {
            const list = readIpList(name, v);
            (pl.lists ??= []).push(list);
            for (const e of list.entries) addTarget(e.value);
          } else for (const h of v.split(',').map((s) => s.trim()).filter(Boolean)) addTarget(h);
          continue;
        }
        addTarget(t);
      }
      // Amazon's ranges are only needed where something is sent to them (not for inbound-only lines).
      let awsMissing = false;
      const aws = line.targetsFrom?.awsIpRanges;
      if (aws && direction !== 'inbound') {
        if (!opts.awsIpRanges) awsMissing = true;
        else for (const h of awsTargets(line, aws, params, opts, pl)) for (const t of expandTarget(h, line, opts, cap, pl)) targets.push(t);
      } else if (aws && opts.awsIpRanges) awsTargets(line, aws, params, opts, pl);

      if (opts.kinds && !line.checks.some((c) => opts.kinds!.includes(c.kind))) {
        pl.notRun = `not run: --only ${opts.kinds.join(',')} leaves out its ${[...new Set(line.checks.map((c) => c.kind))].join(', ')} check${line.checks.length > 1 ? 's' : ''}`;
      }
      for (const check of line.checks) {
        if (opts.kinds && !opts.kinds.includes(check.kind)) continue;
        const { kind, ports: checkPorts, timeout, ...rawOptions } = check;
        const options = resolveOptionRefs(rawOptions, def, params);
        if (kind !== 'dns' && direction !== 'outbound') {
          const pv = checkPorts ?? line.ports;
          const from = pl.awsRanges
            ? [`Amazon's ${pl.awsRanges.services.join('/')} ranges (${pl.awsRanges.matched} prefixes${pl.awsRanges.region ? ` in ${pl.awsRanges.region}` : ''})`]
            : aws
              ? [`Amazon's ${aws.services.join('/')} ranges (ip-ranges.json)`]
              : [...raw.map((t) => t.host), ...missing.map((m) => `the addresses of --${m} (not given)`)];
          const inPorts = pv === undefined ? undefined : resolvePorts(pv, params);
          add({ id: `${line.id}/${kind}/inbound`, line: line.id, kind, host: '-', options, timeoutMs: timeoutDefault }, inboundSkipReason(from, protocolOf(kind), inPorts));
          if (direction === 'inbound') continue;
        }
        if (kind !== 'dns' && awsMissing) {
          add(
            { id: `${line.id}/${kind}/aws-ip-ranges`, line: line.id, kind, host: '-', options, timeoutMs: timeoutDefault },
            `needs Amazon's ip-ranges.json: pass --ip-ranges FILE (download it from https://ip-ranges.amazonaws.com/ip-ranges.json) or --fetch-ip-ranges`,
          );
        }
        // Idle-timer kinds last minutes: their deadline comes from their gaps, not the 3 s default.
        const timeoutMs = timeout ? parseDuration(timeout, `${line.id} timeout`) : (kindDeadlineMs(kind, options) ?? timeoutDefault);
        // A kind whose deadline covers a hold (ws-hold) opens its flow within the run's --timeout.
        const setup = kindOf(kind)?.setupTimeout ? { setupTimeoutMs: Math.min(timeoutDefault, timeoutMs) } : {};
        const portsValue = checkPorts ?? line.ports;
        const ported = PORTED_KINDS.has(kind);
        const ports = ported && portsValue !== undefined ? resolvePorts(portsValue, params) : undefined;
        if (ported && ports === undefined) {
          const pname = String(portsValue).slice(1);
          add({ id: `${line.id}/${kind}/$${pname}`, line: line.id, kind, host: `$${pname}`, options, timeoutMs }, `parameter --${pname} not set`);
          continue;
        }
        for (const name of missing) {
          add({ id: `${line.id}/${kind}/$${name}`, line: line.id, kind, host: `$${name}`, options, timeoutMs }, `parameter --${name} not set`);
        }
        const unsampled = !ported && kind !== 'dns';
        for (const t of unsampled ? raw : targets) {
          if (kind === 'dns') {
            if (isIP(t.host) !== 0) continue;
            add({ id: `${line.id}/dns/${t.host}`, line: line.id, kind, host: t.host, options, timeoutMs });
            continue;
          }
          const u = isUrlTarget(t.host) ? parseUrlTarget(t.host) : undefined;
          if (u && !('error' in u)) {
            // A URL target (ocsp, crl): the prober fetches the URL; host and port say where it goes.
            add({ id: `${line.id}/${kind}/${u.url}`, line: line.id, kind, host: u.host, port: u.port, options: { ...options, url: u.url }, timeoutMs });
            continue;
          }
          if (!ports) {
            add({ id: `${line.id}/${kind}/${hostPort(t.host)}`, line: line.id, kind, host: t.host, options, timeoutMs, ...(t.sampledFrom ? { sampledFrom: t.sampledFrom } : {}) });
            continue;
          }
          for (const port of ports) {
            add({
              id: `${line.id}/${kind}/${hostPort(t.host, port)}`,
              line: line.id,
              kind,
              host: t.host,
              port,
              options,
              timeoutMs,
              ...setup,
              ...(t.sampledFrom ? { sampledFrom: t.sampledFrom } : {}),
            });
          }
        }
      }
    }
  }
  // Nothing would be sent at all (the other lines lack optional values too): the missing required
  // parameter is the thing to say, once, rather than a report of nothing.
  if (missingParams.length && probes.every((p) => skipped.has(p.id))) throw missingParam(def, missingParams[0]!.name, def.parameters![missingParams[0]!.name]!);
    return { catalog: def, file: cat.file, params, lines, notApplicable, probes, skipped, missingParams };
}

/** Check options that name address-list parameters (`[$office-ips, …]`), resolved at plan time. */
export const LIST_OPTIONS: ReadonlySet<string> = new Set(['disjointFrom', 'compareWith']);

/**
 * The `$name` references in {@link LIST_OPTIONS} → each parameter's address list ({@link IpList});
 * an unset one becomes `{ param, unset: true }` so the prober can say what it could not compare.
 * Other options are left as written.
 */
function resolveOptionRefs(options: Record<string, unknown>, def: CatalogDef, params: Record<string, string>): Record<string, unknown> {
  const one = (v: unknown): unknown => {
    if (typeof v !== 'string' || !v.startsWith('$')) return v;
    const name = v.slice(1);
    const p = def.parameters?.[name];
    if (!p) return v;
    const value = params[name];
    if (value === undefined) return { param: name, unset: true };
    return p.type === 'file' ? readIpList(name, value) : value;
  };
  const out: Record<string, unknown> = { ...options };
  for (const k of LIST_OPTIONS) if (Array.isArray(options[k])) out[k] = (options[k] as unknown[]).map(one);
  return out;
}

/** The ip-ranges prefixes a line probes; records what was matched on the plan line. */
function awsTargets(line: LineDef, aws: NonNullable<LineDef['targetsFrom']>['awsIpRanges'], params: Record<string, string>, opts: ExpandOptions, pl: PlanLine): string[] {
  const r = opts.awsIpRanges!;
  const region = aws.region?.startsWith('$') ? params[aws.region.slice(1)] : aws.region;
  const matched = filterAwsPrefixes(r, aws.services, region);
  if (matched.length === 0) {
    const where = region ? ` in region ${region}` : '';
    const regions = awsRegions(r);
    throw new UsageError(
      `${line.id}: ${r.file} lists no ${aws.services.join(' or ')} prefixes${where}` +
        (region ? `; regions in the file: ${regions.slice(0, 30).join(', ')}${regions.length > 30 ? ', …' : ''}` : ''),
      'NC_AWS_NO_PREFIXES',
    );
  }
  const max = aws.maxRanges ?? AWS_MAX_RANGES_DEFAULT;
  let picked = matched.map((p) => p.cidr);
  if (!opts.sweep && picked.length > max) {
    // Evenly spread over the list (deterministic), so every part of Amazon's space is represented.
    const step = (picked.length - 1) / (max - 1 || 1);
    picked = Array.from({ length: max }, (_, i) => picked[Math.round(i * step)]!);
  }
  pl.awsRanges = {
    file: r.file,
    services: aws.services,
    ...(region ? { region } : {}),
    matched: matched.length,
    probed: picked.length,
    cidrs: matched.map((p) => p.cidr),
  };
  return picked;
}

function expandTarget(t: string, line: LineDef, opts: ExpandOptions, cap: number, pl: PlanLine): { host: string; sampledFrom?: string }[] {
  if (!t.includes('/')) return [{ host: t }];
  const c = parseCidr(t);
  if (c.size === 1n) return [{ host: c.text.split('/')[0]! }];
  if (opts.sweep && line.sample?.sweep !== false) {
    let hosts: string[];
    try {
      hosts = expandCidr(c, cap);
    } catch {
      throw new UsageError(
        `${line.id}: ${c.text} holds ${c.size} addresses, more than the sweep cap of ${cap}; ` +
          `sample it instead (${opts.sampleHint ?? 'drop --sweep, or --sample N'}) or raise the cap with --max-targets`,
        'NC_SWEEP_TOO_LARGE',
      );
    }
    pl.sampling.push({ cidr: c.text, strategy: 'all', sampled: hosts.length, rangeSize: c.size.toString() });
    return hosts.map((host) => ({ host, sampledFrom: c.text }));
  }
  const count = opts.sampleCount ?? line.sample?.count ?? DEFAULTS.sampleCount;
  const strategy = line.sample?.strategy ?? 'spread';
  const seed = line.sample?.seed ?? 1;
  const hosts = sampleCidr(c, count, strategy, seed);
  pl.sampling.push({ cidr: c.text, strategy, sampled: hosts.length, rangeSize: c.size.toString(), ...(strategy === 'random' ? { seed } : {}) });
  return hosts.map((host) => ({ host, sampledFrom: c.text }));
}
