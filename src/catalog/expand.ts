/**
 * Catalog + parameters → a plan: every probe the run will send, fully resolved. `netcheck plan`
 * prints exactly this and sends nothing.
 */
import { isIP } from 'node:net';
import { DEFAULTS } from '../constants.js';
import { UsageError } from '../errors.js';
import type { ProbeSpec, SamplingInfo } from '../types.js';
import { parseDuration } from '../util/duration.js';
import { expandCidr, hostPort, parseCidr, parsePorts, sampleCidr } from '../util/ip.js';
import { PORTED_KINDS, paramValueProblem, portsOf, type LoadedCatalog } from './load.js';
import type { CatalogDef, LineDef, ParamDef, PortsValue, SectionDef } from './schema.js';

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
}

export interface PlanLine {
  id: string;
  section: SectionDef;
  def: LineDef;
  probeIds: string[];
  sampling: SamplingInfo[];
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
}

/** Resolve parameters: defaults, required ones, type checks. Errors name the flag. */
export function resolveParams(def: CatalogDef, given: Record<string, string | undefined>): Record<string, string> {
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
      if (p.required) throw missingParam(def, name, p);
      continue;
    }
    const problem = paramValueProblem(p.type, raw, p.values);
    if (problem) throw new UsageError(`--${name}: ${problem}`, 'NC_BAD_PARAM');
    out[name] = raw;
  }
  return out;
}

function missingParam(def: CatalogDef, name: string, p: ParamDef): UsageError {
  const example = p.example !== undefined ? ` (e.g. --${name} ${p.example})` : '';
  return new UsageError(
    `catalog '${def.id}' needs --${name}: ${p.description}.${p.help ? ` ${p.help}` : ''}${example}`,
    'NC_MISSING_PARAM',
  );
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
  const params = resolveParams(def, opts.params);
  const timeoutDefault = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const cap = opts.maxSweepTargets ?? DEFAULTS.maxSweepTargets;
  const probes: ProbeSpec[] = [];
  const skipped = new Map<string, string>();
  const lines: PlanLine[] = [];
  const notApplicable: Plan['notApplicable'] = [];

  for (const section of def.sections) {
    for (const line of section.lines) {
      if (line.when && params[line.when.param] !== line.when.equals) {
        notApplicable.push({ id: line.id, reason: `applies when ${line.when.param} is ${line.when.equals} (it is ${params[line.when.param] ?? 'unset'})` });
        continue;
      }
      const pl: PlanLine = { id: line.id, section, def: line, probeIds: [], sampling: [] };
      lines.push(pl);
      const add = (spec: ProbeSpec, skipReason?: string): void => {
        if (pl.probeIds.includes(spec.id)) return;
        pl.probeIds.push(spec.id);
        probes.push(spec);
        if (skipReason) skipped.set(spec.id, skipReason);
      };

      // Targets: literals, sampled or swept ranges, and parameter lists.
      const targets: { host: string; sampledFrom?: string }[] = [];
      const missing: string[] = [];
      for (const t of line.targets) {
        if (t.startsWith('$')) {
          const v = params[t.slice(1)];
          if (v === undefined) missing.push(t.slice(1));
          else for (const h of v.split(',').map((s) => s.trim()).filter(Boolean)) targets.push(...expandTarget(h, line, opts, cap, pl));
          continue;
        }
        targets.push(...expandTarget(t, line, opts, cap, pl));
      }

      for (const check of line.checks) {
        if (opts.kinds && !opts.kinds.includes(check.kind)) continue;
        const { kind, ports: checkPorts, timeout, ...options } = check;
        const timeoutMs = timeout ? parseDuration(timeout, `${line.id} timeout`) : timeoutDefault;
        const portsValue = checkPorts ?? line.ports;
        const ported = PORTED_KINDS.has(kind);
        const ports = ported && portsValue !== undefined ? resolvePorts(portsValue, params) : undefined;
        if (ported && ports === undefined) {
          const pname = String(portsValue).slice(1);
          add({ id: `${line.id}/${kind}/$${pname}`, line: line.id, kind, host: '-', options, timeoutMs }, `parameter --${pname} not set`);
          continue;
        }
        for (const name of missing) {
          add({ id: `${line.id}/${kind}/$${name}`, line: line.id, kind, host: '-', options, timeoutMs }, `parameter --${name} not set`);
        }
        for (const t of targets) {
          if (kind === 'dns') {
            if (isIP(t.host) !== 0) continue;
            add({ id: `${line.id}/dns/${t.host}`, line: line.id, kind, host: t.host, options, timeoutMs });
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
              ...(t.sampledFrom ? { sampledFrom: t.sampledFrom } : {}),
            });
          }
        }
      }
    }
  }
  return { catalog: def, file: cat.file, params, lines, notApplicable, probes, skipped };
}

function expandTarget(t: string, line: LineDef, opts: ExpandOptions, cap: number, pl: PlanLine): { host: string; sampledFrom?: string }[] {
  if (!t.includes('/')) return [{ host: t }];
  const c = parseCidr(t);
  if (c.size === 1n) return [{ host: c.text.split('/')[0]! }];
  if (opts.sweep) {
    let hosts: string[];
    try {
      hosts = expandCidr(c, cap);
    } catch {
      throw new UsageError(
        `${line.id}: ${c.text} holds ${c.size} addresses, more than the sweep cap of ${cap}; ` +
          `sample it instead (drop --sweep, or --sample N) or raise the cap with --max-targets`,
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
