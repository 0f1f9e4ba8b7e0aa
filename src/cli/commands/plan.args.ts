/** The `netcheck plan` command line: its words, help and flags (yargs), and the call of its implementation. */
import { noExtraWords, type CommandDef } from './command.js';
import { catalogOptions } from '../options.js';
import { timerOptions } from '../timers.js';

export const command: CommandDef = {
  command: 'plan <catalog>',
  describe: 'print every probe a catalog implies, sending nothing',
  builder: (b) => timerOptions(catalogOptions(b.positional('catalog', { type: 'string', describe: 'built-in name or file' })))
    .option('json', { type: 'boolean', describe: 'JSON array of probes (line, kind, host, port, …)' })
    .option('sweep', { type: 'boolean', describe: 'expand ranges fully instead of sampling' })
    .option('sample', { type: 'number', describe: 'addresses sampled per range' })
    .option('max-targets', { type: 'number', describe: 'cap on addresses a sweep may expand' })
    .option('timeout', { type: 'string', describe: 'per-probe deadline, e.g. 3s' })
    .option('control', { type: 'string', describe: 'the interception control a run sends too (default 203.0.113.1:443); --no-control to leave it out' })
    .example('netcheck plan eschat --signaling-port 7400 --json', 'the exact probe list as JSON'),
  handler: async (a, ctx) => {
    noExtraWords(a, 1);
    const { planCommand } = await import('./plan.js');
    await ctx.set(planCommand({ catalog: String(a.catalog), argv: a }));
  },
};
