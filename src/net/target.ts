import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import type { ProbeContext, ProbeOutcome, ProbeSpec, ResolvedAddress } from '../types.js';
import { classify, errorCode } from './classify.js';
import { because } from '../reasons.js';

/** The address a probe should use, or the outcome that explains why there is none. */
export type Target =
  | { ok: true; address: string; family: 4 | 6; resolveMs?: number; addresses?: string[] }
  | { ok: false; outcome: ProbeOutcome };

/** Which resolver a probe asked: the servers given with `--dns-server`, or the system's. */
export interface ResolverInfo {
  source: 'dns-server' | 'system';
  servers: string[];
}

/**
 * The resolver in use, for reports that must say which one failed to resolve a name or answered
 * with unexpected addresses. The system's servers are those Node's resolver read from the OS
 * configuration (resolv.conf on Unix, the registry on Windows): no query is sent to learn them.
 */
export function resolverInUse(ctx: Pick<ProbeContext, 'dnsServers'>): ResolverInfo {
  if (ctx.dnsServers?.length) return { source: 'dns-server', servers: [...ctx.dnsServers] };
  let servers: string[] = [];
  try {
    servers = getServers();
  } catch {
    // No resolver configuration readable here: say so rather than guess.
  }
  return { source: 'system', servers };
}

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
          ...because('NO_ADDRESS_IN_FAMILY'),
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
        // A name that does not resolve is a DNS finding: the report names the resolver that said so.
        data: { resolver: resolverInUse(ctx) },
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
