import { isIP } from 'node:net';
import type { ProbeContext, ProbeOutcome, ProbeSpec, ResolvedAddress } from '../types.js';
import { classify, errorCode } from './classify.js';

/** The address a probe should use, or the outcome that explains why there is none. */
export type Target =
  | { ok: true; address: string; family: 4 | 6; resolveMs?: number; addresses?: string[] }
  | { ok: false; outcome: ProbeOutcome };

/**
 * `ctx.lookup(host)`, given up at the probe's deadline (as ETIMEOUT). The system resolver cannot
 * be cancelled, and a slow one would keep the probe (and the run) waiting past its deadline.
 */
export function lookupWithin(ctx: ProbeContext, host: string): Promise<ResolvedAddress[]> {
  const late = (): Error => Object.assign(new Error(`no answer from the resolver within ${ctx.timeoutMs}ms`), { code: 'ETIMEOUT' });
  if (ctx.signal.aborted) return Promise.reject(late());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(late());
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    ctx.lookup(host).then(
      (all) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(all);
      },
      (err: unknown) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Resolve the spec's host through the run's shared resolver (IP literals pass straight through). */
export async function resolveTarget(spec: ProbeSpec, ctx: ProbeContext): Promise<Target> {
  const fam = isIP(spec.host);
  if (fam !== 0) return { ok: true, address: spec.host, family: fam as 4 | 6 };
  const t0 = performance.now();
  try {
    const all = await lookupWithin(ctx, spec.host);
    const usable = ctx.family ? all.filter((a) => a.family === ctx.family) : all;
    const resolveMs = performance.now() - t0;
    if (usable.length === 0) {
      return {
        ok: false,
        outcome: {
          status: 'skipped',
          reason: 'NO_ADDRESS_IN_FAMILY',
          detail: `${spec.host} has no IPv${ctx.family} address`,
          phases: { resolveMs },
        },
      };
    }
    const first = usable[0]!;
    return { ok: true, address: first.address, family: first.family, resolveMs, addresses: usable.map((a) => a.address) };
  } catch (err) {
    const o = classify(errorCode(err), 'dns');
    return {
      ok: false,
      outcome: {
        ...o,
        // A name that does not resolve cannot be connected to: that is a DNS error, whatever its kind.
        status: o.status === 'filtered' || o.status === 'refused' ? 'error' : o.status,
        detail: `cannot resolve ${spec.host}: ${o.detail}`,
        phases: { resolveMs: performance.now() - t0 },
      },
    };
  }
}

/** Milliseconds rounded to 0.1 for reports. */
export function ms(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Decode a catalog payload: `hex:0a0b…` or text. */
export function decodePayload(text: string): Buffer {
  if (text.startsWith('hex:')) return Buffer.from(text.slice(4).replace(/\s+/g, ''), 'hex');
  return Buffer.from(text, 'utf8');
}
