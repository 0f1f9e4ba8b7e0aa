import { loadCatalogFile } from '../../catalog/load.js';
import { CatalogError, EXIT, UsageError } from '../../errors.js';

/** `netcheck validate FILE…`: every file is checked; each bad one gets its one clear error. */
export async function validateCommand({ files }: { files: string[] }): Promise<number> {
  if (files.length === 0) throw new UsageError('validate needs at least one file (e.g. netcheck validate probes/eschat.yaml)');
  let bad = 0;
  for (const f of files) {
    try {
      const c = loadCatalogFile(f);
      const lines = c.def.sections.reduce((n, s) => n + s.lines.length, 0);
      process.stdout.write(`${f}: ok (${c.def.id}: ${c.def.sections.length} sections, ${lines} lines)\n`);
    } catch (err) {
      if (!(err instanceof CatalogError)) throw err;
      bad++;
      process.stderr.write(`netcheck: ${err.message}\n`);
    }
  }
  return bad ? EXIT.USAGE : EXIT.OK;
}
