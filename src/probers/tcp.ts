/**
 * tcp: can a TCP connection be established? Tells apart the four transport outcomes:
 * handshake completed (ok), RST (refused), ICMP unreachable (unreachable), silence (filtered).
 *
 * This is the prober a sweep runs thousands of times, so its path for an IP literal is kept to
 * one promise, one socket and one deadline callback (BENCHMARKS.md, item i).
 */
import { connect, isIP, type Socket } from 'node:net';
import type { Phases, ProbeContext, ProbeOutcome, ProbeSpec, Prober } from '../types.js';
import { classify, errorCode, synTimeout } from '../net/classify.js';
import { ms, resolveTarget } from '../net/target.js';
import { because } from '../reasons.js';

export const tcp: Prober = (spec, ctx) => {
  // An IP literal needs no resolution: go straight to the connect (no extra promise or await).
  if (isIP(spec.host) !== 0) return attempt(spec, ctx, spec.host, undefined, undefined);
  return resolveTarget(spec, ctx).then((t) => (t.ok ? attempt(spec, ctx, t.address, t.resolveMs, t.addresses) : t.outcome));
};

function attempt(spec: ProbeSpec, ctx: ProbeContext, address: string, resolveMs: number | undefined, addresses: string[] | undefined): Promise<ProbeOutcome> {
  // With the engine's onDeadline, no listener on the signal (see ProbeContext.onDeadline).
  const { onDeadline } = ctx;
  const signal = onDeadline ? undefined : ctx.signal;
  if (signal?.aborted) return late(address, resolveMs, addresses);
  let s: Socket | undefined;
  let settled = false;
  let resolve!: (o: ProbeOutcome) => void;
  const settle = (o: ProbeOutcome, connectMs: number | undefined): void => {
    if (settled) return;
    settled = true;
    signal?.removeEventListener('abort', onAbort);
    // RST instead of FIN: a sweep must not leave thousands of sockets in TIME_WAIT.
    if (s && !s.destroyed) {
      if (s.readyState === 'open') s.resetAndDestroy();
      else s.destroy();
    }
    resolve(outcome(o, resolveMs, connectMs, addresses));
  };
  const onAbort = (): void => settle(synTimeout(spec.timeoutMs, { address }), undefined);
  // Registered before the connect: no SYN leaves once the deadline has passed.
  if (onDeadline && !onDeadline(onAbort)) return late(address, resolveMs, addresses);
  return new Promise<ProbeOutcome>((res) => {
    resolve = res;
    const t0 = performance.now();
    // No noDelay: nothing is ever written, and it would cost a setsockopt per probe.
    const sock: Socket = connect({ host: address, port: spec.port! });
    s = sock;
    signal?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => settle({ ...because('CONNECTED'), detail: 'TCP handshake completed', address }, ms(performance.now() - t0)));
    sock.once('error', (err: Error) => {
      const c = classify(errorCode(err), 'connect');
      settle({ status: c.status, reason: c.reason, detail: c.detail, address }, ms(performance.now() - t0));
    });
  });
}

/** The outcome of an attempt whose deadline passed before its connect: no SYN was sent. */
function late(address: string, resolveMs: number | undefined, addresses: string[] | undefined): Promise<ProbeOutcome> {
  return Promise.resolve(outcome(synTimeout('deadline passed before the connection attempt', { address }), resolveMs, undefined, addresses));
}

/** Add the phases (and the addresses of a name) to an outcome. */
function outcome(o: ProbeOutcome, resolveMs: number | undefined, connectMs: number | undefined, addresses: string[] | undefined): ProbeOutcome {
  const phases: Phases = {};
  if (resolveMs !== undefined) phases.resolveMs = ms(resolveMs);
  if (connectMs !== undefined) phases.connectMs = connectMs;
  o.phases = phases;
  if (addresses) o.data = { addresses };
  return o;
}
