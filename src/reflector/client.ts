/**
 * The client side of the NCR1 exchange (./protocol.ts, docs/reflector.md) that idle-timer flows
 * run against a reflector: a channel of events over any transport, requests re-sent on datagram
 * transports, and the HELLO, ARM, WAKE and BACK steps of one flow.
 *
 * All waits are against absolute deadlines (util/deadline.ts), never counted ticks.
 */
import { randomBytes } from 'node:crypto';
import { atDeadline, nowMs } from '../util/deadline.js';
import { REFLECTOR_DEFAULTS, armMac, encode, isControl, parse, type Message } from './protocol.js';

/** What a channel reports, in order. */
export type ChannelEvent =
  | { type: 'message'; msg: Message }
  /** Bytes that are not NCR1: the far end is not a reflector (an echo server, the vendor's server…). */
  | { type: 'data' }
  | { type: 'error'; code: string | undefined }
  | { type: 'closed'; code?: number; reason?: string };

/** One flow's transport, as the per-kind files open it. Events queue until read. */
export abstract class Channel {
  /** TCP lines end with a newline. */
  abstract readonly newline: boolean;
  /** Datagrams may be lost: requests are re-sent within their deadline. */
  abstract readonly datagram: boolean;
  abstract send(buf: Buffer): void;
  abstract close(): void;

  private readonly queue: ChannelEvent[] = [];
  private waiter: ((e: ChannelEvent) => void) | undefined;
  /** Set once an error or close has been seen: later reads return it again. */
  private terminal: ChannelEvent | undefined;

  protected push(e: ChannelEvent): void {
    if (this.terminal) return;
    if (e.type === 'error' || e.type === 'closed') this.terminal = e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(e);
    } else this.queue.push(e);
  }

  /** Feed raw control bytes (one message) from the transport. */
  protected pushMessage(buf: Buffer): void {
    if (!isControl(buf)) return this.push({ type: 'data' });
    const m = parse(buf);
    this.push('error' in m ? { type: 'data' } : { type: 'message', msg: m });
  }

  /** The next event, or `timeout` at the deadline, or `aborted` when a signal fires. */
  next(deadlineMs: number, signals: AbortSignal[]): Promise<ChannelEvent | 'timeout' | 'aborted'> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.terminal) return Promise.resolve(this.terminal);
    if (signals.some((s) => s.aborted)) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      const done = (v: ChannelEvent | 'timeout' | 'aborted'): void => {
        cancel();
        for (const s of signals) s.removeEventListener('abort', onAbort);
        this.waiter = undefined;
        resolve(v);
      };
      const onAbort = (): void => done('aborted');
      const cancel = atDeadline(deadlineMs, () => done('timeout'));
      for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
      this.waiter = (e) => done(e);
    });
  }
}

/** What a wait for a reply ends with. */
export type Reply = ChannelEvent | 'timeout' | 'aborted';

/** Send a request and wait for a reply of `verb` or ERR (re-sent on datagram transports), within `waitMs`. */
export async function request(ch: Channel, buf: Buffer, verb: string, waitMs: number, signals: AbortSignal[]): Promise<Reply> {
  const deadline = nowMs() + waitMs;
  const tries = ch.datagram ? 3 : 1;
  for (let i = 0; i < tries; i++) {
    ch.send(buf);
    const slot = i === tries - 1 ? deadline : nowMs() + waitMs / tries;
    for (;;) {
      const e = await ch.next(slot, signals);
      if (e === 'timeout') break;
      if (e === 'aborted' || e.type !== 'message') return e;
      if (e.msg.verb === verb || e.msg.verb === 'ERR') return e;
      // Our own request coming back: an echo server, not a reflector.
      if (e.msg.verb === 'HELLO' || e.msg.verb === 'ARM' || e.msg.verb === 'BACK') return { type: 'data' };
      // Anything else (a late duplicate) is ignored.
    }
  }
  return 'timeout';
}

/** HELLO: ask for a token (padded, so the reflector's answer is never larger than the request). */
export function hello(ch: Channel, setupMs: number, signals: AbortSignal[]): Promise<Reply> {
  const nonce = randomBytes(6).toString('hex');
  return request(ch, encode('HELLO', { n: nonce }, REFLECTOR_DEFAULTS.helloPadBytes, ch.newline), 'TOKEN', setupMs, signals);
}

/** ARM: ask the reflector to speak on this flow after `gapMs` of silence (with the shared secret's MAC when there is one). */
export function arm(ch: Channel, token: string, id: string, gapMs: number, secret: string | undefined, setupMs: number, signals: AbortSignal[]): Promise<Reply> {
  const fields: Record<string, string | number> = { t: token, id, gap: gapMs };
  if (secret !== undefined) fields.mac = armMac(secret, token, id, gapMs);
  return request(ch, encode('ARM', fields, REFLECTOR_DEFAULTS.armPadBytes, ch.newline), 'ARMED', setupMs, signals);
}

/** What the silent gap ended with: the reflector's WAKE (`lateMs` after the gap), the flow failing, the deadline, or a stop. */
export type WakeResult = { woke: true; lateMs: number } | { woke: false; event?: Extract<ChannelEvent, { type: 'error' | 'closed' }> } | 'aborted';

/** Wait, silent, for the reflector's WAKE of flow `id`: due at `gapEnd`, accepted until `gapEnd + graceMs`. */
export async function awaitWake(ch: Channel, id: string, gapEnd: number, graceMs: number, signals: AbortSignal[]): Promise<WakeResult> {
  for (;;) {
    const e = await ch.next(gapEnd + graceMs, signals);
    if (e === 'aborted') return 'aborted';
    if (e === 'timeout') return { woke: false };
    if (e.type === 'message' && e.msg.verb === 'WAKE' && e.msg.fields.id === id) return { woke: true, lateMs: Math.round(nowMs() - gapEnd) };
    if (e.type === 'error' || e.type === 'closed') return { woke: false, event: e };
  }
}

/** BACK: answer on the same flow (the reverse direction); the reflector says from which source it came. */
export function back(ch: Channel, token: string, id: string, waitMs: number, signals: AbortSignal[]): Promise<Reply> {
  return request(ch, encode('BACK', { t: token, id }, REFLECTOR_DEFAULTS.backPadBytes, ch.newline), 'BACKOK', waitMs, signals);
}
