/**
 * The options of the idle-timer kinds (`tcp-idle`, `udp-idle`, `ws-idle`): their catalog schema
 * and their normalisation into milliseconds. Pure: the catalog and the timer plan read them through
 * the kinds' descriptors, without loading the flows' network code (idle-common.ts).
 */
import { DURATION_PATTERN, parseDuration } from '../util/duration.js';
import type { OptionSchemas, OptionsOf } from './kind.js';

export type Protocol = 'tcp' | 'udp' | 'ws';

/** Catalog options of every idle-timer kind. Durations as text: 12m, 90s. */
export const IDLE_OPTIONS = {
  require: { type: 'string', pattern: DURATION_PATTERN, description: 'The idle time a flow must survive, e.g. 12m (default: the longest gap).' },
  gaps: {
    type: 'array',
    items: { type: 'string', pattern: DURATION_PATTERN },
    minItems: 1,
    maxItems: 32,
    description: 'Staggered silent gaps, one flow each (default: derived from require, e.g. 12m → 2m,5m,8m,11m,12.5m,15m).',
  },
  mode: { enum: ['reflector', 'hold'], description: 'hold: the target is not a reflector; send nothing, only hold the flow (inconclusive by nature).' },
  grace: { type: 'string', pattern: DURATION_PATTERN, description: "How late the reflector's send after a gap may arrive (default 5% of the longest gap, 2-5s)." },
  backWait: { type: 'string', pattern: DURATION_PATTERN, description: "How long the client's answer after the gap waits for its reply (default 3s)." },
} as const satisfies OptionSchemas;

/**
 * The options of an idle-timer probe: the catalog's (durations as text), or milliseconds where code
 * builds the spec (the timer plan, `netcheck idle`); `setup` and `secret` only code gives.
 */
export type IdleProbeOptions = OptionsOf<typeof IDLE_OPTIONS> & {
  requireMs?: number;
  gapsMs?: number[];
  graceMs?: number;
  backWaitMs?: number;
  setupMs?: number;
  setup?: string;
  secret?: string;
};

/** Options of an idle-timer check, normalised from catalog strings or CLI numbers. */
export interface IdleOptions {
  requireMs: number;
  gapsMs: number[];
  mode: 'reflector' | 'hold';
  /** How long after a gap's deadline the reflector's send may still arrive. */
  graceMs: number;
  /** How long the client's answer after the gap waits for its reply. */
  backWaitMs: number;
  /** Deadline of the set-up exchange (HELLO/ARM). */
  setupMs: number;
}

/** Default gaps as fractions of the required timer (issue 3): 12 min TCP → 2, 5, 8, 11, 12.5, 15 min. */
const TCP_FRACTIONS = [2 / 12, 5 / 12, 8 / 12, 11 / 12, 12.5 / 12, 15 / 12];
/** 1 min UDP → 20, 40, 55, 65, 90 s. */
const UDP_FRACTIONS = [20 / 60, 40 / 60, 55 / 60, 65 / 60, 90 / 60];

/** The staggered gaps a check uses when none are given, derived from the required timer. */
export function defaultGapsMs(protocol: Protocol, requireMs: number): number[] {
  return (protocol === 'udp' ? UDP_FRACTIONS : TCP_FRACTIONS).map((f) => Math.round(requireMs * f));
}

/** A duration option: milliseconds (from the CLI or a timer plan), or catalog text such as `12m`. */
export function durationOpt(v: number | string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  return parseDuration(v, what);
}

/**
 * Grace after a gap: how late the reflector's send may arrive and still count. 5% of the longest
 * gap, between 2 s (a loaded client can stall for hundreds of ms; a late send must not read as a
 * lost flow) and 5 s. It only costs time on flows that were lost.
 */
export function defaultGraceMs(gapMs: number): number {
  return Math.min(5000, Math.max(2000, Math.round(gapMs * 0.05)));
}

/**
 * Normalise spec options. Catalog checks give durations as text (`require: 12m`, `gaps: [2m, 5m]`);
 * the CLI gives milliseconds (`requireMs`, `gapsMs`).
 */
export function idleOptions(protocol: Protocol, o: IdleProbeOptions): IdleOptions {
  const gapsRaw: readonly (number | string)[] | undefined = o.gapsMs ?? o.gaps;
  let gapsMs = gapsRaw?.map((g, i) => durationOpt(g, `gaps[${i}]`)!);
  let requireMs = durationOpt(o.requireMs ?? o.require, 'require');
  if (requireMs === undefined) requireMs = gapsMs?.length ? Math.max(...gapsMs) : protocol === 'udp' ? 60_000 : 720_000;
  if (!gapsMs?.length) gapsMs = defaultGapsMs(protocol, requireMs);
  gapsMs = [...new Set(gapsMs)].sort((a, b) => a - b);
  const longest = Math.max(...gapsMs);
  return {
    requireMs,
    gapsMs,
    mode: o.mode ?? 'reflector',
    graceMs: durationOpt(o.graceMs ?? o.grace, 'grace') ?? defaultGraceMs(longest),
    backWaitMs: durationOpt(o.backWaitMs ?? o.backWait, 'backWait') ?? 3000,
    setupMs: durationOpt(o.setupMs ?? o.setup, 'setup') ?? 5000,
  };
}

/**
 * The deadline the engine should give an idle check: its longest gap plus grace, the reverse
 * answer and set-up, with slack. Expansion sets `spec.timeoutMs` from this (not the 3 s default).
 */
export function idleCheckDeadlineMs(protocol: Protocol, options: IdleProbeOptions): number {
  const o = idleOptions(protocol, options);
  // Set-up counts twice (HELLO, ARM); 5 s slack so the engine's deadline never cuts a finished flow.
  return Math.max(...o.gapsMs) + o.graceMs + o.backWaitMs + 2 * o.setupMs + 5000;
}
