/**
 * How well voice would flow, from measured loss, delay and jitter (issue 17): the ITU-T G.107
 * E-model, simplified as network planners use it, and the thresholds Microsoft publishes for
 * Teams. Pure functions; sources in the README ("Media quality").
 *
 * E-model, simplified (defaults of G.107 for everything not measured here):
 * - R = 93.2 − Id − Ie,eff (93.2 = Ro − Is with G.107's default values; A = 0)
 * - Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3), d the one-way mouth-to-ear delay in ms
 *   (the approximation of Cole & Rosenbluth, "Voice over IP performance monitoring", 2001)
 * - Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl/BurstR + Bpl) (G.107 §7.3), G.711 with packet-loss
 *   concealment: Ie = 0, Bpl = 25.1 (ITU-T G.113 Appendix I), random loss: BurstR = 1
 * - d = RTT/2 + 20 ms (one G.711 frame) + 2 × jitter (a jitter buffer of twice the jitter)
 * - MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R) for 0 < R < 100 (G.107 Annex B)
 */

/** Default thresholds: Microsoft's targets for Teams media, client to Microsoft's edge. */
export const MEDIA_THRESHOLDS = { maxLossPct: 1, maxRttMs: 100, maxJitterMs: 30 } as const;

export interface Thresholds {
  maxLossPct: number;
  maxRttMs: number;
  maxJitterMs: number;
}

/** Codec assumptions of the MOS estimate. */
export const CODEC = { name: 'G.711 with packet-loss concealment, 20 ms frames', frameMs: 20, ie: 0, bpl: 25.1 } as const;

/** The R factor of one direction. */
export function rFactor(oneWayDelayMs: number, lossPct: number, codec: { ie: number; bpl: number } = CODEC): number {
  const d = Math.max(0, oneWayDelayMs);
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, lossPct));
  const ieEff = codec.ie + ((95 - codec.ie) * ppl) / (ppl / 1 + codec.bpl);
  return 93.2 - id - ieEff;
}

/** MOS (1 to 4.5) from an R factor. */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

/** The estimated MOS of one direction, rounded to 0.01. */
export function estimateMos(rttMs: number, jitterMs: number, lossPct: number): { r: number; mos: number; delayMs: number } {
  const delayMs = rttMs / 2 + CODEC.frameMs + 2 * jitterMs;
  const r = rFactor(delayMs, lossPct);
  return { r: Math.round(r * 10) / 10, mos: Math.round(mosFromR(r) * 100) / 100, delayMs: Math.round(delayMs * 10) / 10 };
}

/** What listeners call a MOS (ITU-T P.800 categories, as G.107 Annex B maps R). */
export function mosWords(mos: number): string {
  return mos >= 4.3 ? 'excellent' : mos >= 4.0 ? 'good' : mos >= 3.6 ? 'fair' : mos >= 3.1 ? 'poor' : 'bad';
}

/** Percentiles of a list of numbers (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
