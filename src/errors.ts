/**
 * Typed errors with stable codes. Commands throw these; only src/cli/main.ts turns them into
 * exit codes and messages. Network conditions are never errors: they are probe outcomes.
 */

/** Exit codes, documented in `--help` and the README. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  INCONCLUSIVE: 3,
  /** A file the user asked for (--output, --prometheus-textfile) could not be written (sysexits EX_IOERR). */
  IO_ERROR: 74,
  /** stdout was closed early (`| head`): what was cut off is the reader's choice, not a failure (128 + SIGPIPE). */
  CLOSED_PIPE: 141,
  INTERRUPTED: 130,
} as const;

export class NetcheckError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode: number) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad command line: wrong flag, missing parameter, contradictory options. Exit 2. */
export class UsageError extends NetcheckError {
  constructor(message: string, code = 'NC_USAGE') {
    super(code, message, EXIT.USAGE);
  }
}

/**
 * A file the user asked for could not be written at the end of a run (a disk that filled up, a
 * folder that went away). The report itself was not lost: it went to stdout. Exit 74.
 */
export class OutputError extends NetcheckError {
  constructor(message: string) {
    super('NC_OUTPUT', message, EXIT.IO_ERROR);
  }
}

/** A location in a catalog file, for error messages. */
export interface SourcePos {
  file: string;
  line?: number;
  col?: number;
  /** Dotted path of the offending key, e.g. `sections[0].lines[2].ports`. */
  key?: string;
}

/** Longest run of an offending value quoted in a message: a 10 MB string stays out of the terminal. */
export const MAX_QUOTED_CHARS = 80;

/** Cut every word of `text` longer than {@link MAX_QUOTED_CHARS} (keeping its closing quote). */
export function clipValues(text: string): string {
  return text.replace(new RegExp(`\\S{${MAX_QUOTED_CHARS + 1},}`, 'g'), (w) => {
    const q = w[0] === "'" || w[0] === '"' ? w[0] : '';
    return `${w.slice(0, MAX_QUOTED_CHARS - 3)}…${q}`;
  });
}

/** A catalog that does not validate. The message always names file, line and key. Exit 2. */
export class CatalogError extends NetcheckError {
  readonly pos: SourcePos;
  readonly rule: string;
  constructor(rule: string, pos: SourcePos, message: string) {
    const where = `${pos.file}${pos.line !== undefined ? `:${pos.line}` : ''}${pos.col !== undefined ? `:${pos.col}` : ''}`;
    super('NC_CATALOG', `${where}: ${clipValues(`${pos.key ? `${pos.key}: ` : ''}${message}`)}`, EXIT.USAGE);
    this.pos = pos;
    this.rule = rule;
  }
}
