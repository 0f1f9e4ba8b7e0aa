/**
 * The one options table for commands that probe, and the one `check()` that catches
 * contradictory or malformed options before anything is sent.
 */
import type { Argv } from 'yargs';
import type { ExpandOptions } from '../catalog/expand.js';
import { DEFAULTS } from '../constants.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../util/duration.js';
import { PATH_FLAGS } from './path-options.js';
import { TIMER_FLAGS } from './timers.js';
import { proxySettings, type ProxySettings } from '../net/proxy.js';
import { checkOutputs, type OutputOptions } from './output.js';

/**
 * Repeatable, comma-separated list options. Not yargs `array: true`: a greedy array swallows the
 * positional arguments and number-like flags that follow it (`--only tcp eschat`).
 */
function listOf(v: unknown): string[] {
  return [v].flat().flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
}

export function runOptions<T>(y: Argv<T>) {
  return y
    .option('json', { type: 'boolean', describe: 'write the versioned JSON report to stdout (stdout carries only JSON)' })
    .option('format', { choices: ['text', 'json', 'markdown', 'html', 'junit'] as const, describe: 'report format for stdout, or for --output' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the report to FILE (atomically); format from --format or the extension' })
    .option('timeout', { type: 'string', describe: `per-probe deadline (default ${DEFAULTS.timeoutMs / 1000}s)` })
    .option('concurrency', { type: 'number', describe: `most probes in flight (default ${DEFAULTS.concurrency}; a run starts at ${DEFAULTS.initialConcurrency} and widens while probes wait on the network)` })
    .option('per-host', { type: 'number', describe: `probes in flight to one destination (default ${DEFAULTS.perHostConcurrency})` })
    .option('dns-server', { type: 'string', coerce: listOf, describe: 'resolve through this DNS server (HOST[:PORT]; repeat or comma-separate for several) instead of the system resolver' })
    .option('control', { type: 'string', describe: `interception control: a HOST:PORT that must never answer (default ${DEFAULTS.controlTarget}); --no-control to skip` })
    .option('ipv4', { alias: '4', type: 'boolean', describe: 'IPv4 only' })
    .option('ipv6', { alias: '6', type: 'boolean', describe: 'IPv6 only' })
    .option('udp-recheck', { type: 'string', describe: 'pace of UDP rechecks when ICMP rate limiting is suspected (default 1s; 0s disables)' })
    .option('verbose', { alias: 'v', type: 'boolean', describe: 'list every probe (else the failing ones; for lines of 32 probes or more, counts and the exceptions)' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'no progress on stderr' })
    .option('color', { type: 'boolean', describe: 'force colour on or off (default: on for a TTY)' })
    .option('proxy', { type: 'string', describe: 'send http, tls, ws, ocsp and crl probes through this HTTP proxy: http://[USER:PASS@]HOST:PORT (default: HTTPS_PROXY / HTTP_PROXY, minus NO_PROXY)' })
    .option('compare-direct', { type: 'boolean', describe: 'with a proxy, also try each proxiable probe directly and show both paths' })
    .option('redact', { type: 'boolean', describe: 'mask internal addresses, host names and proxy credentials in every output' })
    .option('prometheus-textfile', { type: 'string', describe: 'also write Prometheus metrics to FILE (node_exporter textfile collector format, atomic)' });
}

export function catalogOptions<T>(y: Argv<T>) {
  return y
    .option('param', { type: 'string', coerce: (v: unknown) => [v].flat().map(String), describe: 'catalog parameter as NAME=VALUE, repeatable (or pass --NAME VALUE)' })
    .option('sweep', { type: 'boolean', describe: 'probe every address of each range instead of a sample' })
    .option('sample', { type: 'number', describe: `addresses sampled per range (default ${DEFAULTS.sampleCount})` })
    .option('max-targets', { type: 'number', describe: `cap on addresses one range may expand to with --sweep (default ${DEFAULTS.maxSweepTargets})` })
    .option('only', { type: 'string', coerce: listOf, describe: 'only these probe kinds (e.g. --only tcp,udp); lines with none of them are listed as not run and do not count' })
    .option('ip-ranges', { type: 'string', describe: "Amazon's ip-ranges.json, for catalogs that whitelist AWS ranges (e.g. conversation-builder)" })
    .option('fetch-ip-ranges', { type: 'boolean', describe: 'download ip-ranges.json from Amazon (cached for a day) instead of --ip-ranges FILE' });
}

/** A flag that must be a whole number ≥ 1, or absent. */
export function positiveInt(argv: Record<string, unknown>, name: string, example = 64): number | undefined {
  const v = argv[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a whole number ≥ 1 (e.g. --${name} ${example})`);
  return v;
}

/** Options every yargs command defines; anything else on a catalog command is a catalog parameter. */
const KNOWN = new Set([
  // Idle timers against a reflector (issue 3).
  ...TIMER_FLAGS,
  // Where lines fail: traces, captive portal, DNS interception (issue 17).
  ...PATH_FLAGS,
  '_', '$0', 'catalog', 'json', 'format', 'output', 'o', 'timeout', 'concurrency', 'per-host', 'dns-server', 'control',
  'ipv4', 'ipv6', '4', '6', 'udp-recheck', 'verbose', 'v', 'quiet', 'q', 'color', 'param', 'sweep', 'sample',
  'max-targets', 'only', 'help', 'h', 'version', 'V', 'loopback', 'proxy', 'compare-direct', 'ip-ranges', 'fetch-ip-ranges', 'nft-table',
  // Reports and the daemon (issue 6).
  'redact', 'prometheus-textfile', 'every', 'jitter', 'listen', 'reports-dir', 'keep', 'webhook', 'webhook-timeout',
  // Reports that close tickets, the daemon exposed safely (issue 16): yargs nests --web.config.file under `web`.
  'from-report', 'web',
]);

/**
 * The plan-shaping options (`--sweep`, `--sample`, `--max-targets`, `--timeout`, `--only`) as
 * expansion options, shared by every command that expands a catalog.
 */
export function expandOptionsFromArgv(argv: Record<string, unknown>): Omit<ExpandOptions, 'params'> {
  // The same checks as `probe`'s: --sample 0 or -3 is refused, not expanded into nothing.
  const sample = positiveInt(argv, 'sample', 8);
  const maxTargets = positiveInt(argv, 'max-targets', 65536);
  return {
    sweep: !!argv.sweep,
    ...(sample !== undefined ? { sampleCount: sample } : {}),
    ...(maxTargets !== undefined ? { maxSweepTargets: maxTargets } : {}),
    ...(argv.timeout !== undefined ? { timeoutMs: parseDuration(String(argv.timeout), '--timeout') } : {}),
    ...(Array.isArray(argv.only) ? { kinds: (argv.only as string[]).map(String) } : {}),
  };
}

/** Catalog parameters from `--NAME VALUE` flags and `--param NAME=VALUE`. */
export function paramsFromArgv(argv: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(argv)) {
    if (KNOWN.has(k) || /[A-Z]/.test(k) || v === undefined) continue;
    if (typeof v === 'boolean') throw new UsageError(`--${k} needs a value`);
    out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  for (const p of (argv.param as string[] | undefined) ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param '${p}': use NAME=VALUE, e.g. --param signaling-port=7400`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export interface CommonRunOptions extends OutputOptions {
  timeoutMs?: number;
  concurrency?: number;
  perHostConcurrency?: number;
  dnsServers?: string[];
  family?: 4 | 6;
  control?: string | false;
  udpRecheckIntervalMs?: number;
  /** `--proxy` or the proxy variables (src/net/proxy.ts); absent means direct. */
  proxy?: ProxySettings;
}

/** `--control HOST:PORT` / `--no-control`; undefined means the default control target. */
export function controlFromArgv(a: Record<string, unknown>): string | false | undefined {
  // `--no-control --control X` (or --control twice) parses as an array; falling through to the
  // default control target would contact an address the user tried to rule out.
  if (Array.isArray(a.control)) throw new UsageError('--control is given more than once (or with --no-control); give one: --control HOST:PORT or --no-control');
  if (a.control === false) return false;
  if (typeof a.control === 'string') {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d+$/.test(a.control)) throw new UsageError(`--control '${a.control}': use HOST:PORT (e.g. --control 203.0.113.1:443), or --no-control`);
    return a.control;
  }
  return undefined;
}

/**
 * Colour by default only on a terminal that shows it: not when NO_COLOR is set (no-color.org),
 * and not on TERM=dumb (Emacs shells, some CI consoles), which prints escapes as text.
 */
export function defaultColor(stdout: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return !!stdout.isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** Validate and normalise the shared options. */
export function checkRunOptions(a: Record<string, unknown>): CommonRunOptions {
  if (a.ipv4 && a.ipv6) throw new UsageError('-4 and -6 contradict each other; pick one (e.g. netcheck eschat -4)');
  if (a.json && a.format && a.format !== 'json') throw new UsageError(`--json and --format ${String(a.format)} contradict each other; use one (e.g. --format json)`);
  const posInt = (name: string): number | undefined => positiveInt(a, name);
  const timeoutMs = a.timeout !== undefined ? parseDuration(String(a.timeout), '--timeout') : undefined;
  if (timeoutMs !== undefined && timeoutMs < 10) throw new UsageError('--timeout must be at least 10ms (e.g. --timeout 3s)');
  const control = controlFromArgv(a);
  const dnsServers = (a['dns-server'] as string[] | undefined)?.map(String);
  for (const d of dnsServers ?? []) {
    // yargs arrays swallow number-like flags (`--dns-server 10.0.0.53 -4` takes '-4'): catch it here,
    // not as a resolver stack trace.
    if (!/^(\[[0-9a-fA-F:.]+\](:\d+)?|[0-9a-fA-F:]+|[0-9.]+(:\d+)?)$/.test(d)) {
      throw new UsageError(`--dns-server '${d}': use an IP address with an optional port (e.g. --dns-server 10.0.0.53 or 127.0.0.1:5353); put flags such as -4 before --dns-server`);
    }
    // c-ares aborts the whole process (a failed assertion, no report) on a port it cannot use.
    const port = /(?:^\[.*\]|^[0-9.]+):(\d+)$/.exec(d)?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw new UsageError(`--dns-server '${d}': port ${port} is out of range 1-65535 (e.g. --dns-server 127.0.0.1:5353)`);
  }
  const udpRecheck = a['udp-recheck'] !== undefined ? parseDuration(String(a['udp-recheck']), '--udp-recheck') : undefined;
  if (a.proxy !== undefined && (typeof a.proxy !== 'string' || a.proxy === '')) throw new UsageError('--proxy needs a URL (e.g. --proxy http://proxy.example:3128)');
  const proxy = proxySettings(a.proxy as string | undefined, process.env, !!a['compare-direct']);
  const out: CommonRunOptions = {
    ...(proxy ? { proxy } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(posInt('concurrency') !== undefined ? { concurrency: posInt('concurrency') } : {}),
    ...(posInt('per-host') !== undefined ? { perHostConcurrency: posInt('per-host') } : {}),
    ...(dnsServers?.length ? { dnsServers } : {}),
    ...(a.ipv4 ? { family: 4 as const } : a.ipv6 ? { family: 6 as const } : {}),
    ...(control !== undefined ? { control } : {}),
    ...(udpRecheck !== undefined ? { udpRecheckIntervalMs: udpRecheck } : {}),
    format: a.json ? 'json' : String(a.format ?? 'text'),
    ...(typeof a.output === 'string' ? { output: a.output } : {}),
    verbose: !!a.verbose,
    quiet: !!a.quiet,
    ...(a.redact ? { redact: true } : {}),
    ...(typeof a['prometheus-textfile'] === 'string' ? { prometheusTextfile: a['prometheus-textfile'] } : {}),
    color: typeof a.color === 'boolean' ? a.color : defaultColor(process.stdout, process.env),
  };
  // Last, once the flags are known good: it touches the file system (issue 11).
  checkOutputs(out, a.format !== undefined || !!a.json);
  return out;
}
