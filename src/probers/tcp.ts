/**
 * tcp: can a TCP connection be established? Tells apart the four transport outcomes:
 * handshake completed (ok), RST (refused), ICMP unreachable (unreachable), silence (filtered).
 */
import { connect, type Socket } from 'node:net';
import type { Prober } from '../types.js';
import { classify, errorCode } from './classify.js';
import { ms, resolveTarget } from './common.js';

export const tcp: Prober = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address } = target;
  const resolveMs = target.resolveMs;
  const phases = resolveMs === undefined ? {} : { resolveMs: ms(resolveMs) };
  const data = target.addresses ? { addresses: target.addresses } : undefined;
  if (ctx.signal.aborted) return { status: 'filtered', reason: 'SYN_TIMEOUT', detail: 'deadline passed before the connection attempt', address, phases };

  let socket: Socket | undefined;
  const t0 = performance.now();
  try {
    const result = await new Promise<{ ok: true } | { ok: false; code: string | undefined; aborted?: boolean }>((resolve) => {
      const s = connect({ host: address, port: spec.port!, noDelay: true });
      socket = s;
      const onAbort = (): void => resolve({ ok: false, code: undefined, aborted: true });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ ok: true });
      });
      s.once('error', (err) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ ok: false, code: errorCode(err) });
      });
    });
    const connectMs = ms(performance.now() - t0);
    if (result.ok) {
      return {
        status: 'ok',
        reason: 'CONNECTED',
        detail: 'TCP handshake completed',
        address,
        phases: { ...phases, connectMs },
        ...(data ? { data } : {}),
      };
    }
    if (result.aborted) {
      return {
        status: 'filtered',
        reason: 'SYN_TIMEOUT',
        detail: `no answer to the connection request within ${spec.timeoutMs}ms (SYN dropped by a firewall, or no host)`,
        address,
        phases,
        ...(data ? { data } : {}),
      };
    }
    return { ...classify(result.code, 'connect'), address, phases: { ...phases, connectMs }, ...(data ? { data } : {}) };
  } finally {
    // RST instead of FIN: a sweep must not leave thousands of sockets in TIME_WAIT.
    if (socket && !socket.destroyed) {
      if (socket.readyState === 'open') socket.resetAndDestroy();
      else socket.destroy();
    }
  }
};
