/** The `netcheck list` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'list [catalog]',
  describe: 'list the built-in catalogs, or one catalog with its parameters (defaults, where to find them, examples)',
  builder: (b) => b
    .positional('catalog', { type: 'string', describe: 'built-in name or file: show its parameters' })
    .option('json', { type: 'boolean', describe: 'JSON: catalogs with their parameters (type, required, default, description, help, example)' })
    .example('netcheck list eschat', "ESChat's parameters and where to find their values")
    .strict(),
  handler: async (a, ctx) => {
    const { listCommand } = await import('./list.js');
    await ctx.set(listCommand({ json: !!a.json, ...(a.catalog ? { catalog: String(a.catalog) } : {}) }));
  },
};
