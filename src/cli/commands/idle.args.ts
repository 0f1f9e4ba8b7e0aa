/** The `netcheck idle` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';
import { runOptions } from '../options.js';

export const command: CommandDef = {
  command: 'idle',
  describe: 'measure how long this path keeps idle TCP/UDP/WebSocket flows, against a netcheck reflector',
  builder: (b) => runOptions(b)
    .option('reflector', { type: 'string', demandOption: true, describe: 'HOST of a `netcheck reflect` outside this network' })
    .option('secret', { type: 'string', describe: 'the reflector’s shared secret (or env NETCHECK_REFLECTOR_SECRET)' })
    .option('tcp-port', { type: 'number', describe: 'reflector TCP port (default 7070)' })
    .option('udp-port', { type: 'number', describe: 'reflector UDP port (default 7070)' })
    .option('ws-port', { type: 'number', describe: 'reflector WebSocket port: also measure a WebSocket flow' })
    .option('wss', { type: 'boolean', describe: 'WebSocket over TLS' })
    .option('fingerprint', { type: 'string', describe: 'pin the reflector certificate (SHA-256, printed by `netcheck reflect`)' })
    .option('tcp-gaps', { type: 'string', describe: 'TCP idle gaps, e.g. 2m,5m,8m,11m,12.5m,15m (default: derived from --require-tcp)' })
    .option('udp-gaps', { type: 'string', describe: 'UDP idle gaps, e.g. 20s,40s,55s,65s,90s (default: derived from --require-udp)' })
    .option('ws-gaps', { type: 'string', describe: 'WebSocket idle gaps' })
    .option('require-tcp', { type: 'string', describe: 'idle time a TCP flow must survive (default 12m)' })
    .option('require-udp', { type: 'string', describe: 'idle time a UDP flow must survive (default 1m)' })
    .option('require-ws', { type: 'string', describe: 'idle time a WebSocket must survive (default 12m)' })
    .option('tcp', { type: 'boolean', describe: 'measure TCP (default on; --no-tcp to skip)' })
    .option('udp', { type: 'boolean', describe: 'measure UDP (default on; --no-udp to skip)' })
    .example('netcheck idle --reflector reflector.example.net --secret "$S"', 'ESChat-style 12m TCP / 1m UDP (takes ~15 min)')
    .example('netcheck idle --reflector 10.0.0.9 --tcp-gaps 3s,6s,9s --udp-gaps 2s,4s --require-tcp 8s --require-udp 3s --json', 'a quick lab run')
    .strict(),
  handler: async (a, ctx) => {
    const { idleCommand } = await import('./idle.js');
    await ctx.set(idleCommand({ argv: a }));
  },
};
