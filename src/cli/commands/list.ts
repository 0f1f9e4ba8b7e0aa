import { builtinNames, loadCatalog } from '../../catalog/builtin.js';
import type { CatalogDef } from '../../catalog/schema.js';
import { EXIT } from '../../errors.js';
import { describeCatalog, paramInfos } from '../catalog-params.js';

function row(name: string, def: CatalogDef) {
  const lines = def.sections.reduce((n, s) => n + s.lines.length, 0);
  return { name, title: def.title, source: def.source, sections: def.sections.length, lines, parameters: paramInfos(def) };
}

/** `netcheck list [catalog] [--json]`: the built-in catalogs, or one catalog with its parameters. */
export async function listCommand({ json, catalog }: { json: boolean; catalog?: string }): Promise<number> {
  if (catalog) {
    const { def } = loadCatalog(catalog);
    process.stdout.write(json ? JSON.stringify(row(def.id, def), null, 2) + '\n' : describeCatalog(catalog, def));
    return EXIT.OK;
  }
  const rows = builtinNames().map((name) => row(name, loadCatalog(name).def));
  if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else {
    for (const r of rows) {
      const req = r.parameters.filter((p) => p.required).map((p) => ` --${p.name} …`).join('');
      process.stdout.write(`${r.name.padEnd(22)} ${r.title}\n${' '.repeat(23)}${r.lines} lines from ${r.source}; run: netcheck ${r.name}${req}\n`);
    }
    process.stdout.write(`\nParameters of a catalog, with defaults and where to find them: netcheck list NAME (or netcheck NAME --help)\n`);
  }
  return EXIT.OK;
}
