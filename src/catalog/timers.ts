/**
 * A catalog's `timers` (e.g. ESChat: 12-minute TCP, 1-minute UDP registration timers) → idle-timer
 * probes against a netcheck reflector. Each timer becomes one probe of several staggered flows;
 * its deadline is derived from its longest gap, not the 3 s default.
 */
import { UsageError } from '../errors.js';
import { idleKindOf, kindDeadlineMs, kindOf } from '../probers/index.js';
import { defaultGapsMs, idleOptions } from '../kinds/idle-options.js';
import type { WsIdleOptions } from '../kinds/ws-idle.js';
import type { ProbeSpec } from '../types.js';
import { hostPort } from '../util/ip.js';
import type { TimerDef } from './schema.js';

/** Where and how to measure a catalog's timers. */
export interface TimerPlanOptions {
  /** The reflector's host (name or address). */
  reflector: string;
  tcpPort?: number;
  udpPort?: number;
  wsPort?: number;
  /** wss for `ws` timers; `fingerprint` pins a self-signed reflector certificate. */
  wsTls?: boolean;
  fingerprint?: string;
  /** Gaps overriding the defaults, per protocol (`all` applies to every timer). */
  gapsMs?: { all?: number[]; tcp?: number[]; udp?: number[]; ws?: number[] };
  /** Multiplies every timer (and so the default gaps): 0.01 turns 12 min into 7.2 s, for tests. */
  scale?: number;
}

/** The line id timer probes carry, so the report can find them: `timers/<timer id>`. */
export function timerLineId(timerId: string): string {
  return `timers/${timerId}`;
}

/** The probes that measure `timers`. */
export function timerProbes(timers: TimerDef[], o: TimerPlanOptions): ProbeSpec[] {
  const scale = o.scale ?? 1;
  if (!(scale > 0)) throw new UsageError('--timer-scale must be a number above 0 (e.g. --timer-scale 0.01 turns 12m into 7.2s)');
  return timers.map((t) => {
    const requireMs = Math.round(t.seconds * 1000 * scale);
    const idle = idleKindOf(t.protocol);
    const kind = idle.name;
    const port = (t.protocol === 'udp' ? o.udpPort : t.protocol === 'ws' ? o.wsPort : o.tcpPort) ?? idle.idle!.defaultPort;
    const gapsMs = o.gapsMs?.[t.protocol] ?? o.gapsMs?.all ?? defaultGapsMs(t.protocol, requireMs);
    // Milliseconds, not catalog text: typed by the idle probers' options (no catalog validator runs here).
    const options: WsIdleOptions = {
      requireMs,
      gapsMs,
      ...(t.protocol === 'ws' && o.wsTls ? { tls: true } : {}),
      ...(t.protocol === 'ws' && o.fingerprint ? { fingerprint: o.fingerprint } : {}),
    };
    return {
      id: `${timerLineId(t.id)}/${kind}/${hostPort(o.reflector, port)}`,
      line: timerLineId(t.id),
      kind,
      host: o.reflector,
      port,
      options,
      timeoutMs: kindDeadlineMs(kind, options)!,
    };
  });
}

/** How long the timer probes will take (their longest deadline, less the engine's slack). */
export function timerRunMs(specs: ProbeSpec[]): number {
  let longest = 0;
  for (const s of specs) {
    const o = idleOptions(kindOf(s.kind)?.idle?.protocol ?? 'tcp', s.options);
    // The last gap plus its answer; the grace is only spent when a send after a gap is lost.
    longest = Math.max(longest, Math.max(...o.gapsMs) + 1000);
  }
  return longest;
}
