/** The `netcheck media` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';
import { runOptions } from '../options.js';

export const command: CommandDef = {
  command: 'media',
  describe: "does audio survive this network? paced datagrams on a vendor's UDP port through a netcheck reflector: RTT, jitter, loss per direction, MOS",
  builder: (b) => runOptions(b)
    .option('reflector', { type: 'string', demandOption: true, describe: 'HOST of a `netcheck reflect` outside this network' })
    .option('udp-port', { type: 'number', describe: 'reflector UDP port, ideally the vendor’s media port (default 7070)' })
    .option('pps', { type: 'number', describe: 'datagrams per second (default 50: G.711 at 20 ms)' })
    .option('size', { type: 'number', describe: 'datagram size in bytes (default 172)' })
    .option('duration', { type: 'string', describe: 'how long to stream (default 10s)' })
    .option('max-loss', { type: 'string', describe: 'loss per direction that fails, percent (default 1%)' })
    .option('max-rtt', { type: 'string', describe: 'average round trip that fails (default 100ms)' })
    .option('max-jitter', { type: 'string', describe: 'jitter per direction that fails (default 30ms)' })
    .option('nat-port', { type: 'number', describe: 'a second reflector UDP port: also tell how the NAT maps and filters (does media need a relay?)' })
    .option('secret', { type: 'string', describe: 'the reflector’s shared secret (or env NETCHECK_REFLECTOR_SECRET)' })
    .example('netcheck media --reflector reflector.example.net --udp-port 4201', 'ESChat audio port, 10 s of G.711-shaped traffic')
    .example('netcheck media --reflector 10.0.0.9 --udp-port 4201 --nat-port 4202 --duration 30s --json', 'longer, with the NAT type')
    .strictOptions(),
  handler: async (a, ctx) => {
    const { mediaCommand } = await import('./media.js');
    await ctx.set(mediaCommand({ argv: a }));
  },
};
