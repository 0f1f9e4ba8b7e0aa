/**
 * The shapes the reflector's parts share: where a reply goes (a peer), an armed flow, and the
 * counters every part adds to.
 */
import type { ReflectorErrorCode } from './protocol.js';

/** Counters, for logs, tests and the benchmark. */
export interface ReflectorStats {
  /** Flows armed and not yet forgotten. */
  flows: number;
  connections: number;
  armed: number;
  wakesSent: number;
  echoed: number;
  rateLimited: number;
  /** Requests refused, by {@link ReflectorErrorCode}. */
  refused: Partial<Record<ReflectorErrorCode, number>>;
  /** Replies not sent because they would have been larger than their request. */
  suppressed: number;
  /** Latest a send after a gap left, past its deadline (ms): the reflector's own timer accuracy. */
  wakeLateMaxMs: number;
  /** Media sessions opened, and media datagrams echoed (also counted in `echoed`). */
  mediaSessions: number;
  mediaEchoed: number;
}

/** Counters at zero. */
export function emptyStats(): ReflectorStats {
  return { flows: 0, connections: 0, armed: 0, wakesSent: 0, echoed: 0, rateLimited: 0, refused: {}, suppressed: 0, wakeLateMaxMs: 0, mediaSessions: 0, mediaEchoed: 0 };
}

export type Transport = 'tcp' | 'udp' | 'ws';

/** Where a reply goes: one connection, or one UDP source. */
export interface Peer {
  transport: Transport;
  ip: string;
  seen: string;
  /** TCP lines end with `\n`. */
  newline: boolean;
  send(buf: Buffer): void;
  /** Flows armed on this connection (TCP/WS), forgotten when it closes. Created lazily. */
  flows?: Flow[];
  /** UDP only: send from another of the reflector's UDP ports (NATF); false when it serves no such port. */
  sendFrom?(port: number, buf: Buffer): boolean;
  /** UDP only: the reflector port this datagram arrived on. */
  localPort?: number;
}

/**
 * An armed flow. Kept small: a reflector may hold thousands (the benchmark's budget is 6.5 KiB per
 * idle TCP flow, socket included), so no closure or timer per flow: one deadline queue serves all.
 */
export interface Flow {
  key: string;
  id: string;
  ip: string;
  peer: Peer;
  /** Bytes the reflector may still send for this flow (the ARM request's size). */
  budget: number;
  woke: boolean;
  /** When the gap ends (then: when the flow is forgotten), on the monotonic clock. */
  due: number;
}
