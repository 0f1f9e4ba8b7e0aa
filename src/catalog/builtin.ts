/** Built-in catalogs: the YAML files in the package's top-level probes/ folder (or, in a single-file executable, embedded copies of them). */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { embedded } from '../platform/embedded.js';
import { loadCatalogFile, parseCatalog, type LoadedCatalog } from './load.js';

/** The probes/ folder of the npm package (absent inside an executable, which embeds the catalogs). */
export const BUILTIN_DIR = fileURLToPath(new URL('../../probes/', import.meta.url));

export function builtinNames(): string[] {
  const inside = embedded()?.catalogs;
  if (inside) return Object.keys(inside).sort();
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Load a catalog by built-in name or by path. */
export function loadCatalog(nameOrPath: string): LoadedCatalog {
  if (/[/\\]|\.ya?ml$/i.test(nameOrPath)) {
    if (!existsSync(nameOrPath)) throw new UsageError(`no catalog file '${nameOrPath}'`, 'NC_NO_CATALOG');
    return loadCatalogFile(nameOrPath);
  }
  const inside = embedded()?.catalogs;
  if (inside && Object.hasOwn(inside, nameOrPath)) return parseCatalog(inside[nameOrPath]!, `probes/${nameOrPath}.yaml`);
  const file = join(BUILTIN_DIR, `${nameOrPath}.yaml`);
  if (inside || !existsSync(file)) {
    throw new UsageError(`no built-in catalog '${nameOrPath}'; built-in: ${builtinNames().join(', ')} (or use: netcheck run --catalog FILE)`, 'NC_NO_CATALOG');
  }
  return loadCatalogFile(file, `probes/${nameOrPath}.yaml`);
}
