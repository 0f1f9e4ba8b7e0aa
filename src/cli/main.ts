/**
 * The entry point: parses the command line, dispatches to a command, and is the only place that
 * maps errors and results to exit codes. Commands are loaded lazily so `--version` stays fast.
 */
import { EXIT, NetcheckError, UsageError } from '../errors.js';
import { version } from '../version.js';
import { adoptSignals, guardPipes, interrupts, stdoutError } from './signals.js';
import { describeIoError } from '../util/atomic.js';

const EPILOGUE = `Exit codes:
  0    every required line passes
  1    at least one required line fails (or partially fails)
  2    usage error, a catalog that does not validate, or an --output that cannot be written
  3    nothing failed, but a required line is inconclusive (e.g. UDP silence)
  70   a bug in netcheck (please report it)
  74   a file could not be written at the end; the report went to stdout instead
  130  interrupted (Ctrl-C, SIGTERM); the report as it stood is still written
  141  stdout was closed early (| head); the --output file is still written

Durations take a unit: 500ms, 3s, 12m.`;

/** Commands with nothing to save: a signal ends them at once (exit 130). */
const NOTHING_TO_SAVE = new Set(['plan', 'list', 'validate', 'schema', 'allowlist', 'match']);
/** Servers: a signal is how they are stopped, and a clean stop exits 0. */
const SERVERS = new Set(['daemon', 'reflect']);

/** Run the CLI with the given arguments (no `node` / script). Sets process.exitCode. */
export async function main(argv: string[]): Promise<void> {
  const word = argv.find((a) => !a.startsWith('-'));
  const help = argv.some((a) => a === '--help' || a === '-h' || a === '--version' || a === '-V');
  adoptSignals(help || (word !== undefined && NOTHING_TO_SAVE.has(word)) ? 'exit' : 'defer');
  guardPipes();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${version()}\n`);
    return;
  }
  let code: number;
  try {
    code = await dispatch(joinNegativeValues(argv));
  } catch (err) {
    code = reportError(err);
  }
  await flushed(process.stdout);
  process.exitCode = finalCode(code, word !== undefined && SERVERS.has(word));
}

/**
 * Commands whose unknown flags are catalog parameters cannot be strict with yargs; a stray word
 * (`netcheck plan eschat 7400`) is still refused rather than ignored. `words`: the command's own.
 */
function noExtraWords(a: { _: (string | number)[] }, words: number): void {
  const extra = a._.slice(words).map(String);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'; catalog parameters take a flag (e.g. --signaling-port 7400)`);
}

/** Flags whose value may look like a flag of its own: a negative number or duration (`--timeout -5s`). */
const VALUE_FLAGS = new Set([
  'timeout', 'udp-recheck', 'hold', 'ping-every', 'pong-timeout', 'every', 'jitter', 'webhook-timeout',
  'require-tcp', 'require-udp', 'require-ws', 'gaps', 'tcp-gaps', 'udp-gaps', 'ws-gaps', 'timer-scale',
  'reflector-tcp-port', 'reflector-udp-port', 'reflector-ws-port',
  'sample', 'max-targets', 'concurrency', 'per-host', 'keep', 'max-bytes', 'tcp-port', 'udp-port', 'ws-port',
  'max-flows', 'max-flows-per-source', 'max-connections-per-source', 'rate',
]);

/**
 * `--timeout -5s` → `--timeout=-5s`: yargs would read `-5s` as the short flags -5 and -s, and say
 * "Unknown arguments: 5, s" instead of what is wrong (the value is negative).
 */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = /^--([a-z0-9-]+)$/.exec(argv[i]!);
    const next = argv[i + 1];
    if (flag && VALUE_FLAGS.has(flag[1]!) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

/**
 * Resolves once what was written to `stream` is out, or failed. A write that failed (EPIPE: the
 * reader was gone before the first byte) reports its error on a later tick, after the promise
 * callbacks of this one: resolve on the next turn of the loop, once that 'error' has been seen.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return void setImmediate(resolve);
    stream.write('', () => setImmediate(resolve));
  });
}

/**
 * The exit code, all things considered: a bug (70) first; then an interruption (130: the report
 * as it stood was written); then a file that could not be written (74); then a stdout whose
 * reader left (141, as `yes | head -1`): never 1, which means "a required line failed".
 */
function finalCode(code: number, server: boolean): number {
  if (code === 70) return code;
  if (interrupts.count > 0 && !server) return EXIT.INTERRUPTED;
  if (code === EXIT.IO_ERROR) return code;
  if (stdoutError === 'EPIPE') return EXIT.CLOSED_PIPE;
  if (stdoutError) {
    process.stderr.write(`netcheck: could not write to stdout (${describeIoError(stdoutError)})\n`);
    return EXIT.IO_ERROR;
  }
  return code;
}

/** Thrown before any command handler while answering a completion request. */
class CompletionOnly extends Error {}

function reportError(err: unknown): number {
  if (err instanceof CompletionOnly) return EXIT.OK;
  if (err instanceof NetcheckError) {
    process.stderr.write(`netcheck: ${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`netcheck: internal error (a bug; please report it): ${(err as Error)?.stack ?? String(err)}\n`);
  return 70;
}

async function dispatch(argv: string[]): Promise<number> {
  const { default: yargs } = await import('yargs');
  const { runOptions, catalogOptions } = await import('./options.js');
  const { timerOptions } = await import('./timers.js');
  // `netcheck eschat --help` lists the catalog's parameters (loaded only when help is asked for).
  const catalogHelp = argv.includes('--help') || argv.includes('-h') ? await import('./catalog-params.js') : undefined;
  // `probe`'s kind-specific flags come from the kinds' descriptions, loaded only for `probe`.
  const probe = argv.includes('probe') ? await import('./commands/probe.js') : undefined;
  const { pathOptions } = await import('./path-options.js');
  let exitCode: number = EXIT.OK;
  const set = (p: Promise<number>): Promise<void> => p.then((c) => void (exitCode = c));

  // A completion request must never run a command (`netcheck probe tcp HOST:443 --t<TAB>` would
  // probe): yargs parses the words typed so far, commands included, to find what may come next.
  const completing = argv.includes('--get-yargs-completions');
  const y = yargs(argv)
    .middleware(() => {
      if (completing) throw new CompletionOnly();
    }, true)
    .scriptName('netcheck')
    .usage('netcheck <catalog> [parameters] [options]\n\nProve, line by line, that a vendor firewall document works on this network.')
    .command(
      '$0 [catalog]',
      'check every line of a built-in catalog (e.g. eschat)',
      (b) => {
        const c = pathOptions(timerOptions(catalogOptions(runOptions(b.positional('catalog', { type: 'string', describe: 'built-in catalog name (see `netcheck list`)' })))));
        return (catalogHelp ? catalogHelp.withCatalogParams(c, argv) : c)
          .example('netcheck demo', 'see a real report against a built-in lab, touching no one’s network')
          .example('netcheck eschat --signaling-port 7400', 'check the ESChat document on this network')
          .example('netcheck eschat', 'on a terminal, asks for the signaling port; otherwise checks every other line')
          .example('netcheck eschat --help', "the catalog's parameters: defaults, where to find them, examples")
          .example('netcheck eschat --signaling-port 7400 --json --output report.json', 'save the versioned JSON report')
          .example('netcheck eschat --signaling-port 7400 --timers --reflector reflector.example.net', 'also measure the 12-minute TCP / 1-minute UDP idle timers (takes ~15 min)');
      },
      async (a) => {
        if (!a.catalog) {
          y.showHelp();
          exitCode = EXIT.USAGE;
          return;
        }
        noExtraWords(a, 0);
        const { runCommand } = await import('./commands/run.js');
        await set(runCommand({ catalog: String(a.catalog), argv: a }));
      },
    )
    .command(
      'run',
      'check every line of a catalog file',
      (b) => pathOptions(timerOptions(catalogOptions(runOptions(b.option('catalog', { type: 'string', describe: 'catalog file (YAML) or built-in name (required)' })))))
        .example('netcheck run --catalog ./my-vendor.yaml', 'check your own catalog'),
      async (a) => {
        const extra = a._.slice(1).map(String);
        if (typeof a.catalog !== 'string' || a.catalog === '') {
          throw new UsageError(extra.length ? `run takes the catalog with --catalog: netcheck run --catalog ${extra[0]}` : 'run needs a catalog: netcheck run --catalog FILE (e.g. netcheck run --catalog ./my-vendor.yaml)');
        }
        if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'; run takes its catalog with --catalog (e.g. netcheck run --catalog ${a.catalog})`);
        const { runCommand } = await import('./commands/run.js');
        await set(runCommand({ catalog: String(a.catalog), argv: a }));
      },
    )
    .command(
      'plan <catalog>',
      'print every probe a catalog implies, sending nothing',
      (b) => timerOptions(catalogOptions(b.positional('catalog', { type: 'string', describe: 'built-in name or file' })))
        .option('json', { type: 'boolean', describe: 'JSON array of probes (line, kind, host, port, …)' })
        .option('sweep', { type: 'boolean', describe: 'expand ranges fully instead of sampling' })
        .option('sample', { type: 'number', describe: 'addresses sampled per range' })
        .option('max-targets', { type: 'number', describe: 'cap on addresses a sweep may expand' })
        .option('timeout', { type: 'string', describe: 'per-probe deadline, e.g. 3s' })
        .option('control', { type: 'string', describe: 'the interception control a run sends too (default 203.0.113.1:443); --no-control to leave it out' })
        .example('netcheck plan eschat --signaling-port 7400 --json', 'the exact probe list as JSON'),
      async (a) => {
        noExtraWords(a, 1);
        const { planCommand } = await import('./commands/plan.js');
        await set(planCommand({ catalog: String(a.catalog), argv: a }));
      },
    )
    .command(
      'list [catalog]',
      'list the built-in catalogs, or one catalog with its parameters (defaults, where to find them, examples)',
      (b) => b
        .positional('catalog', { type: 'string', describe: 'built-in name or file: show its parameters' })
        .option('json', { type: 'boolean', describe: 'JSON: catalogs with their parameters (type, required, default, description, help, example)' })
        .example('netcheck list eschat', "ESChat's parameters and where to find their values")
        .strict(),
      async (a) => {
        const { listCommand } = await import('./commands/list.js');
        await set(listCommand({ json: !!a.json, ...(a.catalog ? { catalog: String(a.catalog) } : {}) }));
      },
    )
    .command(
      'validate <files..>',
      'check catalog files strictly; errors name file, line and key',
      (b) => b.positional('files', { type: 'string', array: true }).example('netcheck validate probes/*.yaml', '').strict(),
      async (a) => {
        const { validateCommand } = await import('./commands/validate.js');
        await set(validateCommand({ files: (a.files as string[]) ?? [] }));
      },
    )
    .command(
      'probe <kind> <target>',
      'one ad-hoc check, like tcping / nc / a small nmap, with the same statuses',
      (b) => pathOptions((probe?.kindFlags ?? ((x) => x))(runOptions(
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
      async (a) => {
        const { probeCommand } = probe ?? (await import('./commands/probe.js'));
        await set(probeCommand({ kind: String(a.kind), target: String(a.target), argv: a }));
      },
    )
    .command(
      'reflect',
      'run a reflector: the far end idle-timer checks need (TCP/UDP echo, WebSocket, NCR1 control protocol)',
      (b) => b
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
      async (a) => {
        const { reflectCommand } = await import('./commands/reflect.js');
        await set(reflectCommand({ argv: a }));
      },
    )
    .command(
      'idle',
      'measure how long this path keeps idle TCP/UDP/WebSocket flows, against a netcheck reflector',
      (b) => runOptions(b)
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
      async (a) => {
        const { idleCommand } = await import('./commands/idle.js');
        await set(idleCommand({ argv: a }));
      },
    )
    .command(
      'media',
      "does audio survive this network? paced datagrams on a vendor's UDP port through a netcheck reflector: RTT, jitter, loss per direction, MOS",
      (b) => runOptions(b)
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
      async (a) => {
        const { mediaCommand } = await import('./commands/media.js');
        await set(mediaCommand({ argv: a }));
      },
    )
    .command(
      'demo',
      'run the full check against a built-in lab (loopback, or a real nftables firewall in network namespaces when root)',
      (b) => runOptions(b).option('loopback', { type: 'boolean', describe: 'use the loopback lab even when a namespace lab is possible' }).strict(),
      async (a) => {
        const { demoCommand } = await import('./commands/demo.js');
        await set(demoCommand({ argv: a }));
      },
    )
    .command(
      'daemon',
      'check catalogs on a schedule and serve Prometheus metrics (/metrics), /healthz and the latest report (/report)',
      (b) => timerOptions(catalogOptions(runOptions(b)))
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
      async (a) => {
        noExtraWords(a, 1);
        const { daemonCommand } = await import('./commands/daemon.js');
        await set(daemonCommand({ argv: a }));
      },
    )
    .command(
      'allowlist [catalog]',
      'print the firewall rules a catalog implies, or a report\'s failing lines need (--from-report); each commented with its document line; sends nothing',
      (b) => catalogOptions(b.positional('catalog', { type: 'string', describe: 'built-in name or file' }))
        .option('from-report', { type: 'string', describe: 'rules for exactly the failing and partial lines of this JSON report, instead of a catalog' })
        .option('format', { choices: ['nft', 'iptables', 'ip6tables', 'csv', 'json'] as const, default: 'nft', describe: 'nftables, iptables-restore (IPv4) / ip6tables-restore, CSV or JSON' })
        .option('nft-table', { type: 'string', describe: 'nftables table (family inet) to add the chains to (default filter)' })
        .option('output', { alias: 'o', type: 'string', describe: 'write to FILE (atomically) instead of stdout' })
        .example('netcheck allowlist liveperson --format nft', 'nftables chains for the LivePerson document')
        .example('netcheck allowlist conversation-builder --hosting aws --ip-ranges ip-ranges.json --aws-region us-east-1 --format csv', 'AWS ranges in both directions, as CSV')
        .example('netcheck allowlist --from-report report.json --format nft', 'what the failing lines of a run need, as nftables'),
      async (a) => {
        noExtraWords(a, 1);
        const { allowlistCommand } = await import('./commands/allowlist.js');
        await set(allowlistCommand({ ...(a.catalog !== undefined ? { catalog: String(a.catalog) } : {}), argv: a }));
      },
    )
    .command(
      'diff <before> <after>',
      'what changed between two JSON reports of the same catalog, line by line (exit 1 when something got worse)',
      (b) => b
        .positional('before', { type: 'string', describe: 'the earlier JSON report' })
        .positional('after', { type: 'string', describe: 'the later JSON report' })
        .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'markdown to paste into the ticket' })
        .example('netcheck diff before.json after.json --format markdown', 'what the firewall change fixed, for the ticket'),
      async (a) => {
        const { diffCommand } = await import('./commands/diff.js');
        await set(diffCommand({ before: String(a.before), after: String(a.after), argv: a }));
      },
    )
    .command(
      'match <addresses..>',
      'which documented line(s) cover an address, e.g. one from a firewall log; sends nothing (exit 1 if one is not covered)',
      (b) => b
        .positional('addresses', { type: 'string', array: true, describe: 'IP addresses' })
        // Not `array: true`: a greedy array would swallow the addresses after it; repeats still collect.
        .option('catalog', { type: 'string', describe: 'catalog to search, repeatable (default: every built-in)' })
        .option('ip-ranges', { type: 'string', describe: "Amazon's ip-ranges.json, to match AWS-hosted lines" })
        .option('fetch-ip-ranges', { type: 'boolean', describe: 'download ip-ranges.json from Amazon (cached for a day)' })
        .option('param', { type: 'string', describe: 'catalog parameter NAME=VALUE that holds addresses, repeatable (e.g. office-ips=office.txt, aws-region=us-east-1)' })
        .option('json', { type: 'boolean', describe: 'JSON on stdout' })
        .example('netcheck match 52.6.58.86 178.249.101.7', 'which vendor lines cover these addresses')
        .example('netcheck match 198.51.100.7 --catalog commversion --param office-ips=office.txt', 'is this one of our office addresses?')
        .strict(),
      async (a) => {
        const { matchCommand } = await import('./commands/match.js');
        await set(matchCommand({ addresses: ((a.addresses as unknown[]) ?? []).map(String), argv: a }));
      },
    )
    .command(
      'completion <shell>',
      'print a completion script for bash, zsh or fish',
      (b) => b
        .positional('shell', { choices: ['bash', 'zsh', 'fish'] as const, describe: 'the shell to complete in' })
        .example('source <(netcheck completion bash)', 'complete commands, options and catalog names in this bash')
        .example('netcheck completion fish > ~/.config/fish/completions/netcheck.fish', 'install for fish'),
      async (a) => {
        const { completionScript } = await import('./completion.js');
        process.stdout.write(completionScript(a.shell as 'bash' | 'zsh' | 'fish'));
      },
    )
    .command(
      'schema [which]',
      'print the JSON Schema of catalogs (for editors) or of the JSON report',
      (b) => b.positional('which', { choices: ['catalog', 'report'] as const, default: 'catalog' }).strict(),
      async (a) => {
        const { schemaCommand } = await import('./commands/schema.js');
        await set(schemaCommand({ which: String(a.which) }));
      },
    )
    // Answers the completion scripts' `--get-yargs-completions` (the hidden command it names is unused).
    .completion('__completion-script', false, (current: string, argv: { _: (string | number)[] }, defaults: (done: (err: Error | null, c: string[] | undefined) => void) => void, done: (c: string[]) => void) => {
      void import('./completion.js').then((m) => m.completeWithCatalogs(current, argv, defaults, done));
    })
    .epilogue(EPILOGUE)
    .version(version())
    .alias('V', 'version')
    .help()
    .alias('h', 'help')
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });

  skipHelpCache(y);
  await y.parseAsync();
  return exitCode;
}

/**
 * yargs renders the whole help text of a command right after starting its handler, only to cache
 * it (usage.cacheHelpMessage) for errors it would print itself: ~40 ms of CPU that lands in the
 * first moments of a sweep. netcheck never prints that text (`.fail` throws, main reports), and
 * `--help` renders afresh, so the cache is skipped. Guarded: if yargs changes, nothing breaks.
 */
function skipHelpCache(y: unknown): void {
  type Usage = { cacheHelpMessage?: () => void };
  const usage = (y as { getInternalMethods?: () => { getUsageInstance?: () => Usage } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}
