/** The `netcheck diff` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'diff <before> <after>',
  describe: 'what changed between two JSON reports of the same catalog, line by line (exit 1 when something got worse)',
  builder: (b) => b
    .positional('before', { type: 'string', describe: 'the earlier JSON report' })
    .positional('after', { type: 'string', describe: 'the later JSON report' })
    .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'markdown to paste into the ticket' })
    .example('netcheck diff before.json after.json --format markdown', 'what the firewall change fixed, for the ticket'),
  handler: async (a, ctx) => {
    const { diffCommand } = await import('./diff.js');
    await ctx.set(diffCommand({ before: String(a.before), after: String(a.after), argv: a }));
  },
};
