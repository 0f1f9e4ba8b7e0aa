/** The `netcheck run` command line: its words, help and flags (yargs), and the call of its implementation. */
import { UsageError } from '../../errors.js';
import type { CommandDef } from './command.js';
import { runOptions, catalogOptions } from '../options.js';
import { timerOptions } from '../timers.js';
import { pathOptions } from '../path-options.js';

export const command: CommandDef = {
  command: 'run',
  describe: 'check every line of a catalog file',
  builder: (b) => pathOptions(timerOptions(catalogOptions(runOptions(b.option('catalog', { type: 'string', describe: 'catalog file (YAML) or built-in name (required)' })))))
    .example('netcheck run --catalog ./my-vendor.yaml', 'check your own catalog'),
  handler: async (a, ctx) => {
    const extra = a._.slice(1).map(String);
    if (typeof a.catalog !== 'string' || a.catalog === '') {
      throw new UsageError(extra.length ? `run takes the catalog with --catalog: netcheck run --catalog ${extra[0]}` : 'run needs a catalog: netcheck run --catalog FILE (e.g. netcheck run --catalog ./my-vendor.yaml)');
    }
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'; run takes its catalog with --catalog (e.g. netcheck run --catalog ${a.catalog})`);
    const { runCommand } = await import('./run.js');
    await ctx.set(runCommand({ catalog: String(a.catalog), argv: a }));
  },
};
