/**
 * Options of a media check (issue 17), from catalog text or CLI numbers, and the deadline the
 * engine gives it. Kept apart from the prober so planning never loads socket code.
 */
import { DURATION_PATTERN, parseDuration } from '../util/duration.js';
import type { OptionSchemas, OptionsOf } from '../util/json-schema.js';
import { MEDIA_THRESHOLDS, type Thresholds } from './quality.js';

/** Catalog options of the `media` kind. */
export const MEDIA_OPTIONS = {
  pps: { type: 'integer', minimum: 1, maximum: 1000, description: 'Datagrams per second (default 50: G.711 at 20 ms).' },
  size: { type: 'integer', minimum: 40, maximum: 1400, description: 'Datagram size in bytes (default 172: 160 bytes of G.711 plus an RTP header).' },
  duration: { type: 'string', pattern: DURATION_PATTERN, description: 'How long to stream (default 10s).' },
  maxLoss: { type: 'number', minimum: 0, maximum: 100, description: 'Loss in either direction, in percent, at or above which the check fails (default 1).' },
  maxRtt: { type: 'string', pattern: DURATION_PATTERN, description: 'Average round trip at or above which the check fails (default 100ms).' },
  maxJitter: { type: 'string', pattern: DURATION_PATTERN, description: 'RFC 3550 jitter in either direction at or above which the check fails (default 30ms).' },
} as const satisfies OptionSchemas;

/**
 * The options of a media probe: the catalog's (durations as text), or milliseconds where
 * `netcheck media` builds the spec; `setupMs` and `secret` only code gives.
 */
export type MediaProbeOptions = OptionsOf<typeof MEDIA_OPTIONS> & {
  durationMs?: number;
  maxRttMs?: number;
  maxJitterMs?: number;
  setupMs?: number;
  secret?: string;
};

/** Defaults of a media check: G.711 at 20 ms (50 packets/s of 172 bytes) for 10 s. */
export const MEDIA_DEFAULTS = { pps: 50, size: 172, durationMs: 10_000, setupMs: 3000 } as const;

/** Longest wait for late echoes after the last send. */
export const DRAIN_MAX_MS = 3000;

export interface MediaOptions extends Thresholds {
  pps: number;
  size: number;
  durationMs: number;
  setupMs: number;
}

function durationOpt(v: number | string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : parseDuration(v, what);
}

/** Normalise spec options: catalog text (`duration: 10s`, `maxRtt: 100ms`, `maxLoss: 1`) or CLI numbers (`durationMs`). */
export function mediaOptions(o: MediaProbeOptions): MediaOptions {
  return {
    pps: o.pps ?? MEDIA_DEFAULTS.pps,
    size: o.size ?? MEDIA_DEFAULTS.size,
    durationMs: durationOpt(o.durationMs ?? o.duration, 'duration') ?? MEDIA_DEFAULTS.durationMs,
    setupMs: durationOpt(o.setupMs, 'setup') ?? MEDIA_DEFAULTS.setupMs,
    maxLossPct: o.maxLoss ?? MEDIA_THRESHOLDS.maxLossPct,
    maxRttMs: durationOpt(o.maxRttMs ?? o.maxRtt, 'maxRtt') ?? MEDIA_THRESHOLDS.maxRttMs,
    maxJitterMs: durationOpt(o.maxJitterMs ?? o.maxJitter, 'maxJitter') ?? MEDIA_THRESHOLDS.maxJitterMs,
  };
}

/** How long a NAT check waits for each answer (each request is sent up to three times within it). */
export const NAT_WAIT_MS = 1000;

/** The engine's deadline for a media check: set-up, the stream, the drain and the counters, with slack. */
export function mediaDeadlineMs(options: MediaProbeOptions): number {
  const o = mediaOptions(options);
  return 3 * o.setupMs + o.durationMs + DRAIN_MAX_MS + 5000;
}

