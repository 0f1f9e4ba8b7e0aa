import { builtinNames, loadCatalog } from '../../catalog/builtin.js';
import { EXIT } from '../../errors.js';

export async function listCommand({ json }: { json: boolean }): Promise<number> {
  const rows = builtinNames().map((name) => {
    const { def } = loadCatalog(name);
    const params = Object.entries(def.parameters ?? {}).map(([k, p]) => ({ name: k, required: !!p.required, type: p.type }));
    const lines = def.sections.reduce((n, s) => n + s.lines.length, 0);
    return { name, title: def.title, source: def.source, sections: def.sections.length, lines, parameters: params };
  });
  if (json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  else {
    for (const r of rows) {
      const req = r.parameters.filter((p) => p.required).map((p) => ` --${p.name} …`).join('');
      process.stdout.write(`${r.name.padEnd(22)} ${r.title}\n${' '.repeat(23)}${r.lines} lines from ${r.source}; run: netcheck ${r.name}${req}\n`);
    }
  }
  return EXIT.OK;
}
