/** The `netcheck daemon` command line: its words, help and flags (yargs), and the call of its implementation. */
import { noExtraWords, type CommandDef } from './command.js';
import { runOptions, catalogOptions } from '../options.js';
import { timerOptions } from '../timers.js';

export const command: CommandDef = {
  command: 'daemon',
  describe: 'check catalogs on a schedule and serve Prometheus metrics (/metrics), /healthz and the latest report (/report)',
  builder: (b) => timerOptions(catalogOptions(runOptions(b)))
    .option('catalog', { type: 'string', array: true, demandOption: true, describe: 'built-in name or catalog file; repeat for several (params: --param NAME=VALUE, or --param CATALOG:NAME=VALUE for one catalog)' })
    .option('every', { type: 'string', default: '15m', describe: 'run interval (runs never overlap); 0s: no schedule, Prometheus drives checks through /probe' })
    .option('jitter', { type: 'string', describe: 'start each run up to this much later, at random (e.g. 30s)' })
    .option('listen', { type: 'string', default: '127.0.0.1:9469', describe: 'ADDRESS:PORT for /metrics, /healthz, /report, /probe' })
    .option('web.config.file', { type: 'string', describe: 'TLS and basic auth for the endpoints, in Prometheus exporter-toolkit format (see docs/daemon.md)' })
    .option('reports-dir', { type: 'string', describe: 'keep the last --keep JSON reports of each catalog here (atomic writes)' })
    .option('keep', { type: 'number', default: 10, describe: 'reports kept per catalog in --reports-dir' })
    .option('webhook', { type: 'string', describe: 'POST a JSON summary here when a line changes verdict (retried with back-off)' })
    .option('webhook-timeout', { type: 'string', describe: 'deadline of one webhook attempt (default 5s)' })
    .example('netcheck daemon --catalog eschat --param signaling-port=7400 --every 15m --reports-dir /var/lib/netcheck', 'check ESChat every 15 minutes; scrape http://127.0.0.1:9469/metrics')
    .example('netcheck daemon --catalog eschat --param signaling-port=7400 --every 0s --listen 0.0.0.0:9469 --web.config.file web.yml', 'Prometheus scrapes /probe?catalog=eschat&line=… over TLS with basic auth'),
  handler: async (a, ctx) => {
    noExtraWords(a, 1);
    const { daemonCommand } = await import('./daemon.js');
    await ctx.set(daemonCommand({ argv: a }));
  },
};
