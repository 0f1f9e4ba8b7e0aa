/** The `netcheck <catalog>` command line: its words, help and flags (yargs), and the call of its implementation. */
import { EXIT } from '../../errors.js';
import { noExtraWords, type CommandDef } from './command.js';
import { runOptions, catalogOptions } from '../options.js';
import { timerOptions } from '../timers.js';
import { pathOptions } from '../path-options.js';

export const command: CommandDef = {
  command: '$0 [catalog]',
  describe: 'check every line of a built-in catalog (e.g. eschat)',
  builder: (b, ctx) => {
    const c = pathOptions(timerOptions(catalogOptions(runOptions(b.positional('catalog', { type: 'string', describe: 'built-in catalog name (see `netcheck list`)' })))));
    return (ctx.catalogHelp ? ctx.catalogHelp.withCatalogParams(c, ctx.argv) : c)
      .example('netcheck demo', 'see a real report against a built-in lab, touching no one’s network')
      .example('netcheck eschat --signaling-port 7400', 'check the ESChat document on this network')
      .example('netcheck eschat', 'on a terminal, asks for the signaling port; otherwise checks every other line')
      .example('netcheck eschat --help', "the catalog's parameters: defaults, where to find them, examples")
      .example('netcheck eschat --signaling-port 7400 --json --output report.json', 'save the versioned JSON report')
      .example('netcheck eschat --signaling-port 7400 --timers --reflector reflector.example.net', 'also measure the 12-minute TCP / 1-minute UDP idle timers (takes ~15 min)');
  },
  handler: async (a, ctx) => {
    if (!a.catalog) {
      ctx.showHelp();
      ctx.setCode(EXIT.USAGE);
      return;
    }
    noExtraWords(a, 0);
    const { runCommand } = await import('./run.js');
    await ctx.set(runCommand({ catalog: String(a.catalog), argv: a }));
  },
};
