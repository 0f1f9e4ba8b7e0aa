/** The `netcheck reflect` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';

export const command: CommandDef = {
  command: 'reflect',
  describe: 'run a reflector: the far end idle-timer checks need (TCP/UDP echo, WebSocket, NCR1 control protocol)',
  builder: (b) => b
    .option('listen', { type: 'string', describe: 'address to bind (default 127.0.0.1; 0.0.0.0 to serve on every interface)' })
    .option('tcp', { type: 'string', describe: 'TCP ports, e.g. 7400 or 7070,7400 (default 7070 when no port option is given)' })
    .option('udp', { type: 'string', describe: 'UDP ports or ranges, e.g. 4201-4264 (default 7070)' })
    .option('ws', { type: 'string', describe: 'WebSocket (ws) port(s) (default 7071)' })
    .option('wss', { type: 'string', describe: 'WebSocket over TLS port(s); self-signed certificate unless --cert/--key' })
    .option('cert', { type: 'string', describe: 'PEM certificate for --wss' })
    .option('key', { type: 'string', describe: 'PEM private key for --wss' })
    .option('secret', { type: 'string', describe: 'shared secret: clients must sign flow requests (HMAC); or env NETCHECK_REFLECTOR_SECRET' })
    .option('max-flows', { type: 'number', describe: 'armed flows held at once (default 10000)' })
    .option('max-flows-per-source', { type: 'number', describe: 'armed flows per source address (default 64)' })
    .option('max-connections-per-source', { type: 'number', describe: 'TCP/WebSocket connections per source address (default 256)' })
    .option('rate', { type: 'number', describe: 'messages per second per source address (default 20)' })
    .option('json', { type: 'boolean', describe: 'print the startup line as JSON (bound ports, fingerprint)' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'log refused requests on stderr' })
    .option('quiet', { alias: 'q', type: 'boolean' })
    .example('netcheck reflect --listen 0.0.0.0 --tcp 7400 --udp 4201-4264 --wss 443 --secret "$S"', 'outside the customer network, on the vendor’s ports')
    .strict(),
  handler: async (a, ctx) => {
    const { reflectCommand } = await import('./reflect.js');
    await ctx.set(reflectCommand({ argv: a }));
  },
};
