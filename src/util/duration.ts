import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** JSON Schema pattern of a duration in a catalog (`3s`, `12m`, `1m30s`): what {@link parseDuration} accepts. */
export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?(ms|s|m|h))+$';

/**
 * Parse a duration with a unit (`500ms`, `3s`, `1.5s`, `12m`, `1h`, `1m30s`) into milliseconds.
 * A bare number is refused: on a command line a unit-less duration is a guess.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const s = String(text).trim();
  if (/^-\d/.test(s)) throw new UsageError(`${what}: '${text}' is negative; a duration is a length of time, e.g. 500ms, 3s, 12m`);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s.length === 0 || matched !== s.length) {
    throw new UsageError(`${what}: '${text}' is not a duration; use a unit, e.g. 500ms, 3s, 12m`);
  }
  return Math.round(total);
}

/** Format milliseconds for humans: 850ms, 3.2s, 12m, 1m05s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return s === 0 ? `${m}m` : `${m}m${String(s).padStart(2, '0')}s`;
}
