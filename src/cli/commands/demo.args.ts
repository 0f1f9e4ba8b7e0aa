/** The `netcheck demo` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';
import { runOptions } from '../options.js';

export const command: CommandDef = {
  command: 'demo',
  describe: 'run the full check against a built-in lab (loopback, or a real nftables firewall in network namespaces when root)',
  builder: (b) => runOptions(b).option('loopback', { type: 'boolean', describe: 'use the loopback lab even when a namespace lab is possible' }).strict(),
  handler: async (a, ctx) => {
    const { demoCommand } = await import('./demo.js');
    await ctx.set(demoCommand({ argv: a }));
  },
};
