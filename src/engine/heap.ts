/**
 * Peak memory of big sweeps (issue 14). A sweep keeps every result (tens of MB at 65,534 probes)
 * while it churns through a socket, a promise and an error per probe. V8 lets the old generation
 * grow to about four times what was live at the last full collection before it collects again
 * (its growing factor tops out at 4 when collections are cheap, as they are here), and it does not
 * hand the pages back right after: a 65,534-target loopback sweep peaked at 250–280 MiB of RSS
 * with ~45 MiB of live data. Capping the factor at 1.5 collects sooner; in interleaved runs on these
 * machines the same sweep peaked at 175–190 MiB for the same CPU time (BENCHMARKS.md, scaling).
 *
 * The cap is V8's own `--heap-growing-percent`, read each time V8 sets the next collection's limit,
 * so setting it once a run is under way takes effect. It is process-wide and stays set; it only
 * changes when full collections happen, never what is kept. V8 prints an error on stdout for a
 * flag it does not know, so it is set only on V8 majors known to have it.
 */
import { setFlagsFromString } from 'node:v8';

/** Probes from which a run caps heap growth: below, the whole run fits in V8's first heap. */
export const HEAP_CAP_MIN_PROBES = 4096;

/** The old generation may grow to (1 + this/100) × what was live at the last full collection. */
export const HEAP_GROWING_PERCENT = 50;

/** V8 majors known to read --heap-growing-percent (Node 20: 11.3, Node 22: 12.4, Node 24: 13.6). */
const KNOWN_V8_MAJORS = { min: 7, max: 13 };

let capped = false;

/** Does a run of `probes` probes, on this V8, get the cap? */
export function shouldCapHeap(probes: number, v8Version = process.versions.v8): boolean {
  const major = Number(/^(\d+)\./.exec(v8Version)?.[1]);
  return probes >= HEAP_CAP_MIN_PROBES && major >= KNOWN_V8_MAJORS.min && major <= KNOWN_V8_MAJORS.max;
}

/** Cap V8's heap growth for the rest of the process, once, when a run is big enough to need it. */
export function capHeapGrowth(probes: number): void {
  if (capped || !shouldCapHeap(probes)) return;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  capped = true;
}
