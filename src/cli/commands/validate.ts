import { validateCatalogFile } from '../../catalog/load.js';
import { EXIT, UsageError } from '../../errors.js';

/**
 * `netcheck validate FILE…`: every file is checked, and every problem of a file is listed (not
 * only the first), each naming file, line and key. A file that trips a bug does not stop the
 * others; the exit code then says so (70).
 */
export async function validateCommand({ files }: { files: string[] }): Promise<number> {
  if (files.length === 0) throw new UsageError('validate needs at least one file (e.g. netcheck validate probes/eschat.yaml)');
  let bad = 0;
  let bugs = 0;
  for (const f of files) {
    try {
      const { catalog: c, errors } = validateCatalogFile(f);
      if (errors.length) {
        bad++;
        for (const err of errors) process.stderr.write(`netcheck: ${err.message}\n`);
        continue;
      }
      const lines = c!.def.sections.reduce((n, s) => n + s.lines.length, 0);
      process.stdout.write(`${f}: ok (${c!.def.id}: ${c!.def.sections.length} sections, ${lines} lines)\n`);
    } catch (err) {
      bugs++;
      process.stderr.write(`netcheck: ${f}: internal error (a bug; please report it): ${(err as Error)?.stack ?? String(err)}\n`);
    }
  }
  return bugs ? 70 : bad ? EXIT.USAGE : EXIT.OK;
}
