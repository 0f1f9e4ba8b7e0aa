/**
 * `netcheck eschat` typed on a terminal without `--signaling-port`: ask for each missing required
 * parameter, saying what it is and where to find it, rather than refusing to run. An empty answer
 * (or end of input) leaves the lines that need it unchecked; the run then reports them so.
 */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { missingRequiredParams } from '../catalog/expand.js';
import { paramValueProblem } from '../catalog/load.js';
import type { CatalogDef } from '../catalog/schema.js';

/** Tries per parameter before giving up on it (its lines are then reported as not checked). */
const MAX_TRIES = 3;

export interface PromptIo {
  input: Readable;
  output: Writable;
  /** Whether `input` is a terminal (readline then handles editing and Ctrl-C itself). */
  terminal: boolean;
}

/** Ask only where someone can answer: stdin and stderr (where the question goes) are a terminal. */
export function canPrompt(): boolean {
  return !!process.stdin.isTTY && !!process.stderr.isTTY;
}

/**
 * Ask for the catalog's missing required parameters; answers are added to `params`.
 * Returns 'interrupted' on Ctrl-C (the caller exits 130, nothing was sent).
 */
export async function askMissingParams(def: CatalogDef, params: Record<string, string>, io: PromptIo): Promise<'done' | 'interrupted'> {
  const missing = missingRequiredParams(def, params);
  if (!missing.length) return 'done';
  const rl = createInterface({ input: io.input, output: io.output, terminal: io.terminal });
  const ac = new AbortController();
  let interrupted = false;
  let ended = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    ac.abort();
  });
  rl.on('close', () => {
    ended = true;
    ac.abort();
  });
  const say = (text: string): void => void io.output.write(text);
  try {
    for (const name of missing) {
      const p = def.parameters![name]!;
      say(
        `\nnetcheck ${def.id} needs --${name}: ${p.description}.\n` +
          (p.help ? `  ${p.help}\n` : '') +
          (p.values ? `  One of: ${p.values.join(', ')}.\n` : '') +
          `  Press Enter with no value to skip the lines that need it (they are reported as not checked).\n`,
      );
      for (let tries = 0; tries < MAX_TRIES; tries++) {
        let answer: string;
        try {
          answer = (await rl.question(`${name}${p.example !== undefined ? ` (e.g. ${p.example})` : ''}: `, { signal: ac.signal })).trim();
        } catch {
          if (interrupted) return 'interrupted';
          if (ended) return 'done';
          throw new Error('prompt failed');
        }
        if (answer === '') break;
        const problem = paramValueProblem(p.type, answer, p.values);
        if (!problem) {
          params[name] = answer;
          break;
        }
        say(`  --${name}: ${problem}\n`);
      }
    }
    return 'done';
  } finally {
    rl.close();
  }
}
