/**
 * The table of armed flows: who armed what, how many per source, and the one deadline queue that
 * sends each flow's WAKE after its gap and forgets it a while later.
 */
import { atDeadline, nowMs } from '../util/deadline.js';
import { encode } from './protocol.js';
import type { Flow, Peer, ReflectorStats } from './peer.js';

/**
 * Deadlines of every flow in one binary heap under one timer: less memory than a Timeout per flow,
 * and fired against absolute times (util/deadline.ts). Stale entries are skipped when popped.
 */
class DeadlineQueue {
  private readonly heap: { due: number; flow: Flow }[] = [];
  private cancelTimer: (() => void) | undefined;
  private armedFor = Infinity;
  constructor(private readonly fire: (flow: Flow) => void) {}
  push(flow: Flow): void {
    const h = this.heap;
    h.push({ due: flow.due, flow });
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= h[i]!.due) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
    if (flow.due < this.armedFor) this.arm();
  }
  private pop(): { due: number; flow: Flow } | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.due < h[m]!.due) m = l;
        if (r < h.length && h[r]!.due < h[m]!.due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
  private arm(): void {
    this.cancelTimer?.();
    const next = this.heap[0];
    if (!next) {
      this.cancelTimer = undefined;
      this.armedFor = Infinity;
      return;
    }
    this.armedFor = next.due;
    this.cancelTimer = atDeadline(next.due, () => {
      this.cancelTimer = undefined;
      this.armedFor = Infinity;
      const now = nowMs();
      while (this.heap.length && this.heap[0]!.due <= now) {
        const e = this.pop()!;
        // An entry whose flow was rescheduled or forgotten since is stale.
        if (e.flow.due === e.due) this.fire(e.flow);
      }
      this.arm();
    });
  }
  clear(): void {
    this.heap.length = 0;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.armedFor = Infinity;
  }
}

/** Every armed flow, by `token|id`, with the per-source counts the limits read. */
export class FlowTable {
  private readonly flows = new Map<string, Flow>();
  private readonly perIp = new Map<string, number>();
  private readonly queue = new DeadlineQueue((f) => this.onDue(f));
  constructor(
    private readonly stats: ReflectorStats,
    private readonly retainAfterWakeMs: number,
  ) {}
  get size(): number {
    return this.flows.size;
  }
  get(key: string): Flow | undefined {
    return this.flows.get(key);
  }
  has(key: string): boolean {
    return this.flows.has(key);
  }
  /** Flows armed by this source address. */
  countFor(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }
  /** Hold an armed flow until its gap ends; a connection's flows are forgotten with it. */
  add(flow: Flow): void {
    this.flows.set(flow.key, flow);
    this.perIp.set(flow.ip, (this.perIp.get(flow.ip) ?? 0) + 1);
    if (flow.peer.transport !== 'udp') (flow.peer.flows ??= []).push(flow);
    this.stats.flows = this.flows.size;
    this.stats.armed++;
    this.queue.push(flow);
  }
  forget(f: Flow): void {
    if (this.flows.get(f.key) !== f) return;
    f.due = NaN; // its queue entry is now stale
    this.flows.delete(f.key);
    const list = f.peer.flows;
    if (list) {
      const i = list.indexOf(f);
      if (i >= 0) list.splice(i, 1);
    }
    const n = (this.perIp.get(f.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(f.ip);
    else this.perIp.set(f.ip, n);
    this.stats.flows = this.flows.size;
  }
  /** A connection closed: its flows go with it. */
  forgetPeer(peer: Peer): void {
    if (peer.flows) for (const f of [...peer.flows]) this.forget(f);
  }
  clear(): void {
    for (const f of [...this.flows.values()]) this.forget(f);
    this.queue.clear();
  }
  private onDue(flow: Flow): void {
    if (this.flows.get(flow.key) !== flow) return;
    if (flow.woke) return this.forget(flow);
    this.wake(flow);
  }
  private wake(flow: Flow): void {
    const stats = this.stats;
    stats.wakeLateMaxMs = Math.max(stats.wakeLateMaxMs, nowMs() - flow.due);
    const msg = encode('WAKE', { id: flow.id, seen: flow.peer.seen }, 0, flow.peer.newline);
    if (msg.length <= flow.budget) {
      flow.budget -= msg.length;
      flow.woke = true;
      stats.wakesSent++;
      try {
        flow.peer.send(msg);
      } catch {
        /* the connection is gone: the client will see that itself */
      }
    } else stats.suppressed++;
    flow.woke = true;
    flow.due = nowMs() + this.retainAfterWakeMs;
    this.queue.push(flow);
  }
}
