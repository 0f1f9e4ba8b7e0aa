/**
 * `netcheck diff before.json after.json`: what changed between two runs of the same catalog,
 * line by line. Exit 1 when anything got worse (a line's verdict dropped, a new failing line, a
 * probe that passed and now fails, a new run-level finding), 0 otherwise, 2 for bad input.
 */
import { EXIT, UsageError } from '../../errors.js';
import { diffReports, renderDiffMarkdown, renderDiffText } from '../../report/diff.js';
import { readReportFile } from './allowlist.js';

export const DIFF_FORMATS = ['text', 'markdown', 'json'] as const;

export async function diffCommand({ before, after, argv }: { before: string; after: string; argv: Record<string, unknown> }): Promise<number> {
  const format = String(argv.format ?? 'text');
  if (!(DIFF_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format ${format}: use one of ${DIFF_FORMATS.join(', ')} (e.g. --format markdown)`);
  const b = readReportFile(before, 'diff');
  const a = readReportFile(after, 'diff');
  if (b.catalog.id !== a.catalog.id) {
    throw new UsageError(`${before} is a report of catalog '${b.catalog.id}', ${after} of '${a.catalog.id}': diff compares two runs of the same catalog`);
  }
  const d = diffReports(b, a);
  process.stdout.write(format === 'json' ? JSON.stringify(d, null, 2) + '\n' : format === 'markdown' ? renderDiffMarkdown(d) : renderDiffText(d));
  return d.worse ? EXIT.FAILED : EXIT.OK;
}
