/**
 * What a command's line definition (`commands/<name>.args.ts`) is: its words, help and flags for
 * yargs, and a handler that imports the command's implementation only when it runs, so that
 * building the command line loads no command (`--help` and `probe tcp` stay light).
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../../errors.js';

/** What main gives every command: the raw words, the exit code, and the modules loaded for this command line. */
export interface CommandContext {
  /** The command line as typed (after `--timeout -5s` joining). */
  argv: string[];
  /** Take the command's exit code when it resolves. */
  set(p: Promise<number>): Promise<void>;
  setCode(code: number): void;
  showHelp(): void;
  /** Loaded when help is asked for: a catalog's parameters in its help. */
  catalogHelp?: typeof import('../catalog-params.js');
  /** Loaded for `probe`: its kind-specific flags come from the kinds' descriptions. */
  probe?: typeof import('./probe.js');
}

/** Parsed arguments, as yargs hands them to a handler. */
export type Args = ArgumentsCamelCase<Record<string, unknown>>;

/** One command of the command line. */
export interface CommandDef {
  command: string;
  describe: string;
  // yargs' builder types grow with every option; main only hands the result back to yargs.
  builder(b: Argv, ctx: CommandContext): Argv<any>;
  handler(a: Args, ctx: CommandContext): Promise<void>;
}

/**
 * Commands whose unknown flags are catalog parameters cannot be strict with yargs; a stray word
 * (`netcheck plan eschat 7400`) is still refused rather than ignored. `words`: the command's own.
 */
export function noExtraWords(a: { _: (string | number)[] }, words: number): void {
  const extra = a._.slice(words).map(String);
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'; catalog parameters take a flag (e.g. --signaling-port 7400)`);
}
