/** The `netcheck completion` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'completion <shell>',
  describe: 'print a completion script for bash, zsh or fish',
  builder: (b) => b
    .positional('shell', { choices: ['bash', 'zsh', 'fish'] as const, describe: 'the shell to complete in' })
    .example('source <(netcheck completion bash)', 'complete commands, options and catalog names in this bash')
    .example('netcheck completion fish > ~/.config/fish/completions/netcheck.fish', 'install for fish'),
  handler: async (a) => {
    const { completionScript } = await import('../completion.js');
    process.stdout.write(completionScript(a.shell as 'bash' | 'zsh' | 'fish'));
  },
};
