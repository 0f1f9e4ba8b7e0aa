/**
 * The JSON report as a sequence of chunks (issue 14), so a sweep's report is written to its file or
 * to stdout piece by piece instead of as one string: a 65,534-probe report was a 36 MB string, then
 * a Buffer of it, at the peak of the process's memory.
 *
 * Layout: a report of up to {@link JSON_PRETTY_MAX_PROBES} probes is indented exactly as
 * `JSON.stringify(report, null, 2)` (people read those). A bigger one is compact, yet still one
 * record per line for line tools (`grep`, `jq -c`, diffs): every top-level key on its own line, and
 * each element of `lines` and `probes` on its own line. Both layouts parse to the same value as
 * `JSON.stringify(report)`; nothing is left out. Pure: a function of the Report only.
 */
import type { Report } from '../types.js';

/** Reports with more probes than this are written compact, one line and one probe per line. */
export const JSON_PRETTY_MAX_PROBES = 1000;

/** Text is handed out in chunks of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

/** Top-level arrays written one element per line in the compact layout. */
const PER_LINE_KEYS = new Set(['lines', 'probes']);

export type JsonLayout = 'pretty' | 'compact';

/** The layout {@link jsonReportChunks} uses for this report unless told otherwise. */
export function jsonLayout(report: Report): JsonLayout {
  return report.probes.length > JSON_PRETTY_MAX_PROBES ? 'compact' : 'pretty';
}

/** Arrays longer than this are written element by element instead of stringified whole. */
const BIG_ARRAY = 512;

/**
 * The JSON report, followed by a newline, as chunks whose concatenation is the whole text. In the
 * compact layout no chunk is much longer than 64 KiB: even one line's list of 65,534 probe ids is
 * written piece by piece.
 */
export function* jsonReportChunks(report: Report, layout: JsonLayout = jsonLayout(report)): Generator<string> {
  if (layout === 'pretty') {
    // Small by definition: one string is fine, and it is exactly what JSON.stringify indents.
    yield JSON.stringify(report, null, 2) + '\n';
    return;
  }
  let buf = '';
  for (const piece of compactPieces(report)) {
    buf += piece;
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  yield buf;
}

/** The compact layout as small pieces: top-level keys, and each line and probe, on lines of their own. */
function* compactPieces(report: Report): Generator<string> {
  let first = true;
  yield '{';
  for (const [key, value] of Object.entries(report)) {
    if (PER_LINE_KEYS.has(key) && Array.isArray(value)) {
      yield `${first ? '' : ','}\n${JSON.stringify(key)}:[`;
      first = false;
      for (let i = 0; i < value.length; i++) {
        const v: unknown = value[i];
        // One string per probe, no generator: the common case, 65,534 times in a swept /16.
        if (holdsBig(v)) {
          yield i ? ',\n' : '\n';
          yield* valuePieces(v);
        } else yield `${i ? ',\n' : '\n'}${JSON.stringify(v) ?? 'null'}`;
      }
      yield value.length ? '\n]' : ']';
      continue;
    }
    // JSON.stringify leaves out keys whose value has no JSON form (undefined, functions).
    if (!hasJson(value)) continue;
    yield `${first ? '' : ','}\n${JSON.stringify(key)}:`;
    first = false;
    yield* valuePieces(value);
  }
  yield '\n}\n';
}

/** Would JSON.stringify write this value (rather than leave its key out)? */
function hasJson(v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';
}

function isBig(v: unknown): boolean {
  return Array.isArray(v) && v.length > BIG_ARRAY;
}

/** Is `v` a plain object with a big array among its own values? (No array of values allocated.) */
function holdsBig(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const k in v) if (Object.hasOwn(v, k) && isBig((v as Record<string, unknown>)[k])) return true;
  return false;
}

/**
 * `JSON.stringify(v)` as pieces: whole for ordinary values, element by element for big arrays and
 * for objects holding one. A value JSON cannot write is `null`, as JSON.stringify writes it in arrays.
 */
function* valuePieces(v: unknown): Generator<string> {
  if (isBig(v)) {
    const a = v as unknown[];
    yield '[';
    for (let i = 0; i < a.length; i++) {
      if (i) yield ',';
      yield* valuePieces(a[i]);
    }
    yield ']';
    return;
  }
  if (holdsBig(v)) {
    yield '{';
    let first = true;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!hasJson(x)) continue;
      yield `${first ? '' : ','}${JSON.stringify(k)}:`;
      first = false;
      yield* valuePieces(x);
    }
    yield '}';
    return;
  }
  yield JSON.stringify(v) ?? 'null';
}

/** The whole JSON report as one string (for callers that need one: the daemon's `/report`). */
export function renderJson(report: Report): string {
  let out = '';
  for (const chunk of jsonReportChunks(report)) out += chunk;
  return out;
}
