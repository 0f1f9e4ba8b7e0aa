import { buildAllowlist } from '../../allowlist/rules.js';
import { ALLOWLIST_FORMATS, renderAllowlist, type AllowlistFormat } from '../../allowlist/render.js';
import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { EXIT, OutputError, UsageError } from '../../errors.js';
import { describeIoError, unwritableReason, writeFileAtomic } from '../../util/atomic.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { paramsFromArgv } from '../options.js';

/**
 * `netcheck allowlist <catalog>`: the firewall rules the catalog implies (every address of every
 * applicable line, never samples), each commented with its document line. Sends nothing.
 */
export async function allowlistCommand({ catalog, argv }: { catalog: string; argv: Record<string, unknown> }): Promise<number> {
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
  const cat = loadCatalog(catalog);
  const awsIpRanges = await ipRangesFromArgv(argv);
  const plan = expandCatalog(cat, { params: paramsFromArgv(argv), ...(awsIpRanges ? { awsIpRanges } : {}) });
  const text = renderAllowlist(buildAllowlist(plan), format as AllowlistFormat, table !== undefined ? { nftTable: String(table) } : {});
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
