/**
 * Options of a media check (issue 17), from catalog text or CLI numbers, and the deadline the
 * engine gives it. Kept apart from the prober so planning never loads socket code.
 */
import { parseDuration } from '../util/duration.js';
import { MEDIA_THRESHOLDS, type Thresholds } from './quality.js';

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

function durationOpt(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'number' ? v : parseDuration(String(v), what);
}

/** Normalise spec options: catalog text (`duration: 10s`, `maxRtt: 100ms`, `maxLoss: 1`) or CLI numbers (`durationMs`). */
export function mediaOptions(o: Record<string, unknown>): MediaOptions {
  return {
    pps: typeof o.pps === 'number' ? o.pps : MEDIA_DEFAULTS.pps,
    size: typeof o.size === 'number' ? o.size : MEDIA_DEFAULTS.size,
    durationMs: durationOpt(o.durationMs ?? o.duration, 'duration') ?? MEDIA_DEFAULTS.durationMs,
    setupMs: durationOpt(o.setupMs, 'setup') ?? MEDIA_DEFAULTS.setupMs,
    maxLossPct: typeof o.maxLoss === 'number' ? o.maxLoss : MEDIA_THRESHOLDS.maxLossPct,
    maxRttMs: durationOpt(o.maxRttMs ?? o.maxRtt, 'maxRtt') ?? MEDIA_THRESHOLDS.maxRttMs,
    maxJitterMs: durationOpt(o.maxJitterMs ?? o.maxJitter, 'maxJitter') ?? MEDIA_THRESHOLDS.maxJitterMs,
  };
}

/** How long a NAT check waits for each answer (each request is sent up to three times within it). */
export const NAT_WAIT_MS = 1000;

/** The engine's deadline for a media check: set-up, the stream, the drain and the counters, with slack. */
export function mediaDeadlineMs(options: Record<string, unknown>): number {
  const o = mediaOptions(options);
  return 3 * o.setupMs + o.durationMs + DRAIN_MAX_MS + 5000;
}

/** The engine's deadline for a NAT check: three exchanges with a reflector, up to six with a STUN server (RFC 5780). */
export function natDeadlineMs(options: Record<string, unknown>): number {
  return (options.server === 'stun' ? 6 : 3) * NAT_WAIT_MS + 3000;
}
