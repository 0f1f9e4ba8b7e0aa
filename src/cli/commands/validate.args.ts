/** The `netcheck validate` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'validate <files..>',
  describe: 'check catalog files strictly; errors name file, line and key',
  builder: (b) => b.positional('files', { type: 'string', array: true }).example('netcheck validate probes/*.yaml', '').strict(),
  handler: async (a, ctx) => {
    const { validateCommand } = await import('./validate.js');
    await ctx.set(validateCommand({ files: (a.files as string[]) ?? [] }));
  },
};
