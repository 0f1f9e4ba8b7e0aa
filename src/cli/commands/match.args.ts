/** The `netcheck match` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'match <addresses..>',
  describe: 'which documented line(s) cover an address, e.g. one from a firewall log; sends nothing (exit 1 if one is not covered)',
  builder: (b) => b
    .positional('addresses', { type: 'string', array: true, describe: 'IP addresses' })
    // Not `array: true`: a greedy array would swallow the addresses after it; repeats still collect.
    .option('catalog', { type: 'string', describe: 'catalog to search, repeatable (default: every built-in)' })
    .option('ip-ranges', { type: 'string', describe: "Amazon's ip-ranges.json, to match AWS-hosted lines" })
    .option('fetch-ip-ranges', { type: 'boolean', describe: 'download ip-ranges.json from Amazon (cached for a day)' })
    .option('param', { type: 'string', describe: 'catalog parameter NAME=VALUE that holds addresses, repeatable (e.g. office-ips=office.txt, aws-region=us-east-1)' })
    .option('json', { type: 'boolean', describe: 'JSON on stdout' })
    .example('netcheck match 52.6.58.86 178.249.101.7', 'which vendor lines cover these addresses')
    .example('netcheck match 198.51.100.7 --catalog commversion --param office-ips=office.txt', 'is this one of our office addresses?')
    .strict(),
  handler: async (a, ctx) => {
    const { matchCommand } = await import('./match.js');
    await ctx.set(matchCommand({ addresses: ((a.addresses as unknown[]) ?? []).map(String), argv: a }));
  },
};
