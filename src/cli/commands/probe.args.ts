/** The `netcheck probe` command line: its words, help and flags (yargs), and the call of its implementation. */
import type { CommandDef } from './command.js';
import { runOptions } from '../options.js';
import { pathOptions } from '../path-options.js';

export const command: CommandDef = {
  command: 'probe <kind> <target>',
  describe: 'one ad-hoc check, like tcping / nc / a small nmap, with the same statuses',
  builder: (b, ctx) => pathOptions((ctx.probe?.kindFlags ?? ((x) => x))(runOptions(
    b
      .positional('kind', { type: 'string', describe: 'tcp, udp, dns, http, tls, ocsp, crl, …' })
      .positional('target', { type: 'string', describe: 'HOST:PORT, HOST:80,443, CIDR:4201-4264, [v6]:port, a name for dns, a URL for ocsp/crl' }),
  )))
    .option('sample', { type: 'number', describe: 'probe N addresses spread over each range instead of every address' })
    .option('max-targets', { type: 'number', describe: 'cap on the addresses one range may expand to (default 65536)' })
    .option('reflector-fingerprint', { type: 'string', describe: "ws-hold: trust a netcheck reflector's self-signed certificate (its SHA-256, printed by `netcheck reflect`)" })
    .example('netcheck probe tls www.example.com:443 --expect-issuer DigiCert --json', 'chain, expiry and the interception verdict')
    .example('netcheck probe ocsp http://ocsp.example.com --cert site.pem --issuer ca.pem', 'a signed OCSP status (level 3)')
    .example('netcheck probe crl http://crl.example.com/ca.crl --issuer ca.pem', 'a fresh, signed CRL (level 3)')
    .example('netcheck probe tcp 10.0.0.5:443', 'is TCP 443 open?')
    .example('netcheck probe tcp 17.0.0.0/8:5223 --sample 8', 'eight addresses spread over a /8')
    .example('netcheck probe udp 10.0.0.5:4201-4264 --timeout 2s', 'UDP sweep with honest states')
    .example('netcheck probe dns example.com --dns-server 10.0.0.53', 'resolve through a given server')
    .example('netcheck probe ws-hold reflector.example.net:443 --hold 2m --ping-every 30s', 'does a WebSocket survive 2 minutes with 30 s pings?')
    // probe has no catalog parameters: an unknown flag is a typo, not something to ignore.
    .strictOptions(),
  handler: async (a, ctx) => {
    const { probeCommand } = ctx.probe ?? (await import('./probe.js'));
    await ctx.set(probeCommand({ kind: String(a.kind), target: String(a.target), argv: a }));
  },
};
