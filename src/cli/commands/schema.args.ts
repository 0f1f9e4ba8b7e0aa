/** The `netcheck schema` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'schema [which]',
  describe: 'print the JSON Schema of catalogs (for editors) or of the JSON report',
  builder: (b) => b.positional('which', { choices: ['catalog', 'report'] as const, default: 'catalog' }).strict(),
  handler: async (a, ctx) => {
    const { schemaCommand } = await import('./schema.js');
    await ctx.set(schemaCommand({ which: String(a.which) }));
  },
};
