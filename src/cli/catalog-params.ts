/**
 * A catalog's parameters, made discoverable (issue 15): `netcheck eschat --help` and
 * `netcheck list eschat` show each with its default, where to find the value and an example;
 * `netcheck list --json` carries the same fields.
 */
import type { Argv } from 'yargs';
import { loadCatalog } from '../catalog/builtin.js';
import type { CatalogDef, ParamDef } from '../catalog/schema.js';

/** One parameter as `list --json` gives it. */
export interface ParamInfo {
  name: string;
  type: ParamDef['type'];
  required: boolean;
  default?: string;
  description: string;
  help?: string;
  example?: string;
  values?: string[];
}

/** The catalog's parameters in document order, defaults as the command line would write them. */
export function paramInfos(def: CatalogDef): ParamInfo[] {
  return Object.entries(def.parameters ?? {}).map(([name, p]) => ({
    name,
    type: p.type,
    required: !!p.required,
    ...(p.default !== undefined ? { default: Array.isArray(p.default) ? p.default.join(',') : String(p.default) } : {}),
    description: p.description,
    ...(p.help ? { help: p.help } : {}),
    ...(p.example !== undefined ? { example: String(p.example) } : {}),
    ...(p.values ? { values: p.values } : {}),
  }));
}

/** `(required)` / `(default 4201-4264)` / `(optional)`, plus the choices of an enum. */
function status(p: ParamInfo): string {
  const base = p.required ? 'required' : p.default !== undefined ? `default ${p.default}` : 'optional';
  return p.values ? `${base}; one of ${p.values.join(', ')}` : base;
}

/** One parameter as a help line: what it is, its default or that it is required, where to find it, an example. */
export function paramHelpText(p: ParamInfo): string {
  return `${p.description} (${status(p)}).${p.help ? ` ${p.help}` : ''}${p.example !== undefined ? ` Example: --${p.name} ${p.example}` : ''}`;
}

/** `netcheck list <catalog>`: the catalog and its parameters, for a person. */
export function describeCatalog(name: string, def: CatalogDef): string {
  const lines = def.sections.reduce((n, s) => n + s.lines.length, 0);
  const params = paramInfos(def);
  const required = params.filter((p) => p.required).map((p) => ` --${p.name} ${p.example ?? '…'}`).join('');
  const out = [`${name}: ${def.title}`, `  ${lines} lines in ${def.sections.length} sections, from ${def.source}`, `  run: netcheck ${name}${required}`];
  if (def.timers?.length) out.push(`  idle timers: ${def.timers.map((t) => `${t.protocol.toUpperCase()} ${t.seconds}s`).join(', ')} (measured with --timers --reflector HOST)`);
  out.push('', params.length ? 'Parameters:' : 'Parameters: none');
  for (const p of params) {
    out.push(`  --${p.name} <${p.type}>  ${p.required ? 'required' : p.default !== undefined ? `default ${p.default}` : 'optional'}${p.values ? `; one of ${p.values.join(', ')}` : ''}`);
    out.push(`      ${p.description}.`);
    if (p.help) out.push(`      ${p.help}`);
    if (p.example !== undefined) out.push(`      Example: --${p.name} ${p.example}`);
  }
  return out.join('\n') + '\n';
}

/**
 * For `netcheck CATALOG --help`: the catalog's parameters as options of their own group, so yargs
 * prints them with the rest. Only when help is asked for (loading a catalog costs time), and only
 * for a built-in name or file that loads; otherwise help stays the generic one.
 */
export function withCatalogParams<T>(y: Argv<T>, argv: string[]): Argv<T> {
  if (!argv.includes('--help') && !argv.includes('-h')) return y;
  const name = argv.find((a) => !a.startsWith('-'));
  if (!name) return y;
  let def: CatalogDef;
  try {
    def = loadCatalog(name).def;
  } catch {
    return y;
  }
  const group = `Parameters of ${def.id} (${def.title}):`;
  let out = y;
  for (const p of paramInfos(def)) out = out.option(p.name, { type: 'string', group, describe: paramHelpText(p) });
  return out;
}
