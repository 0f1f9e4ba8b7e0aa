/** Built-in catalogs: the YAML files in the package's top-level probes/ folder. */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { loadCatalogFile, type LoadedCatalog } from './load.js';

export const BUILTIN_DIR = fileURLToPath(new URL('../../probes/', import.meta.url));

export function builtinNames(): string[] {
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
  const file = join(BUILTIN_DIR, `${nameOrPath}.yaml`);
  if (!existsSync(file)) {
    throw new UsageError(`no built-in catalog '${nameOrPath}'; built-in: ${builtinNames().join(', ')} (or use: netcheck run --catalog FILE)`, 'NC_NO_CATALOG');
  }
  return loadCatalogFile(file, `probes/${nameOrPath}.yaml`);
}
