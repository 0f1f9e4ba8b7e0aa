import { readFileSync } from 'node:fs';
import { allowlistFromReport } from '../../allowlist/from-report.js';
import { buildAllowlist, type Allowlist } from '../../allowlist/rules.js';
import { ALLOWLIST_FORMATS, renderAllowlist, type AllowlistFormat } from '../../allowlist/render.js';
import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { EXIT, OutputError, UsageError } from '../../errors.js';
import type { Report } from '../../types.js';
import { describeIoError, unwritableReason, writeFileAtomic } from '../../util/atomic.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { paramsFromArgv } from '../options.js';

/** Read a JSON report for `--from-report`; a bad file is one clear error naming it (exit 2). */
export function readReportFile(file: string, flag: string): Report {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag} ${file}: not JSON (${(err as Error).message}); write reports with --format json or -o FILE.json`);
  }
  const r = data as Partial<Report> | null;
  if (!r || typeof r !== 'object' || r.schemaVersion !== 1 || !r.catalog || !Array.isArray(r.lines)) {
    throw new UsageError(`${flag} ${file}: not a netcheck JSON report (schemaVersion 1 with catalog and lines); write one with --format json or -o FILE.json`);
  }
  return r as Report;
}

/**
 * `netcheck allowlist <catalog>`: the firewall rules the catalog implies (every address of every
 * applicable line, never samples), each commented with its document line. Sends nothing.
 * `--from-report r.json` instead: the rules for exactly the failing and partial lines of a run.
 */
export async function allowlistCommand({ catalog, argv }: { catalog?: string; argv: Record<string, unknown> }): Promise<number> {
  const format = String(argv.format ?? 'nft');
  if (!(ALLOWLIST_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format ${format}: use one of ${ALLOWLIST_FORMATS.join(', ')} (e.g. --format nft)`);
  }
  const table = argv['nft-table'];
  if (table !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(table))) {
    throw new UsageError(`--nft-table '${String(table)}': use a plain nftables table name (letters, digits, _), e.g. --nft-table filter`);
  }
  if (typeof argv.output === 'string') {
    const why = unwritableReason(argv.output);
    if (why) throw new UsageError(`--output ${argv.output}: ${why}`, 'NC_OUTPUT');
  }
  const fromReport = argv['from-report'];
  let list: Allowlist;
  if (fromReport !== undefined) {
    if (typeof fromReport !== 'string' || !fromReport) throw new UsageError('--from-report needs a JSON report file (e.g. --from-report report.json)');
    if (catalog !== undefined) throw new UsageError(`--from-report takes the catalog from the report; leave out '${catalog}' (e.g. netcheck allowlist --from-report report.json --format nft)`);
    list = allowlistFromReport(readReportFile(fromReport, '--from-report'), fromReport);
  } else {
    if (catalog === undefined) throw new UsageError('allowlist needs a catalog or --from-report FILE (e.g. netcheck allowlist eschat --signaling-port 7400, or netcheck allowlist --from-report report.json)');
    const cat = loadCatalog(catalog);
    const awsIpRanges = await ipRangesFromArgv(argv);
    const plan = expandCatalog(cat, { params: paramsFromArgv(argv), ...(awsIpRanges ? { awsIpRanges } : {}) });
    list = buildAllowlist(plan);
  }
  const text = renderAllowlist(list, format as AllowlistFormat, table !== undefined ? { nftTable: String(table) } : {});
  if (typeof argv.output === 'string') {
    try {
      writeFileAtomic(argv.output, text);
    } catch (err) {
      process.stdout.write(text);
      throw new OutputError(`could not write the allowlist to ${argv.output} (${describeIoError((err as NodeJS.ErrnoException).code)}); the previous file, if any, is untouched, and the rules went to stdout instead`);
    }
    process.stderr.write(`netcheck: allowlist written to ${argv.output} (${format})\n`);
  } else process.stdout.write(text);
  return EXIT.OK;
}
