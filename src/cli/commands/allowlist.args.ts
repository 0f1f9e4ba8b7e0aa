/** The `netcheck allowlist` command line: its words, help and flags (yargs), and the call of its implementation. */
import { noExtraWords, type CommandDef } from './command.js';
import { catalogOptions } from '../options.js';

export const command: CommandDef = {
  command: 'allowlist [catalog]',
  describe: 'print the firewall rules a catalog implies, or a report\'s failing lines need (--from-report); each commented with its document line; sends nothing',
  builder: (b) => catalogOptions(b.positional('catalog', { type: 'string', describe: 'built-in name or file' }))
    .option('from-report', { type: 'string', describe: 'rules for exactly the failing and partial lines of this JSON report, instead of a catalog' })
    .option('format', { choices: ['nft', 'iptables', 'ip6tables', 'csv', 'json'] as const, default: 'nft', describe: 'nftables, iptables-restore (IPv4) / ip6tables-restore, CSV or JSON' })
    .option('nft-table', { type: 'string', describe: 'nftables table (family inet) to add the chains to (default filter)' })
    .option('output', { alias: 'o', type: 'string', describe: 'write to FILE (atomically) instead of stdout' })
    .example('netcheck allowlist liveperson --format nft', 'nftables chains for the LivePerson document')
    .example('netcheck allowlist conversation-builder --hosting aws --ip-ranges ip-ranges.json --aws-region us-east-1 --format csv', 'AWS ranges in both directions, as CSV')
    .example('netcheck allowlist --from-report report.json --format nft', 'what the failing lines of a run need, as nftables'),
  handler: async (a, ctx) => {
    noExtraWords(a, 1);
    const { allowlistCommand } = await import('./allowlist.js');
    await ctx.set(allowlistCommand({ ...(a.catalog !== undefined ? { catalog: String(a.catalog) } : {}), argv: a }));
  },
};
