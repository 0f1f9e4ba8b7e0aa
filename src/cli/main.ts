/**
 * The entry point: parses the command line, dispatches to a command, and is the only place that
 * maps errors and results to exit codes. Commands are loaded lazily so `--version` stays fast.
 */
import { EXIT, NetcheckError, UsageError } from '../errors.js';
import { version } from '../version.js';
import { adoptSignals, guardPipes, interrupts, stdoutError } from './signals.js';
import { describeIoError } from '../util/atomic.js';
import type { CommandContext } from './commands/command.js';

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
  const { COMMANDS } = await import('./commands/index.js');
  // `netcheck eschat --help` lists the catalog's parameters (loaded only when help is asked for).
  const catalogHelp = argv.includes('--help') || argv.includes('-h') ? await import('./catalog-params.js') : undefined;
  // `probe`'s kind-specific flags come from the kinds' descriptions, loaded only for `probe`.
  const probe = argv.includes('probe') ? await import('./commands/probe.js') : undefined;
  let exitCode: number = EXIT.OK;
  const ctx: CommandContext = {
    argv,
    set: (p) => p.then((c) => void (exitCode = c)),
    setCode: (c) => void (exitCode = c),
    showHelp: () => y.showHelp(),
    ...(catalogHelp ? { catalogHelp } : {}),
    ...(probe ? { probe } : {}),
  };

  // A completion request must never run a command (`netcheck probe tcp HOST:443 --t<TAB>` would
  // probe): yargs parses the words typed so far, commands included, to find what may come next.
  const completing = argv.includes('--get-yargs-completions');
  const y = yargs(argv)
    .middleware(() => {
      if (completing) throw new CompletionOnly();
    }, true)
    .scriptName('netcheck')
    .usage('netcheck <catalog> [parameters] [options]\n\nProve, line by line, that a vendor firewall document works on this network.');
  for (const c of COMMANDS) y.command(c.command, c.describe, (b) => c.builder(b, ctx), (a) => c.handler(a, ctx));
  y
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
