/**
 * Webhook on verdict change: POST a JSON body, retry with exponential back-off, and never block
 * the daemon. Deliveries run one at a time in the background from a bounded queue; each attempt
 * has its own timeout, so a webhook that hangs costs a timeout per attempt and nothing more.
 */
import { version } from '../version.js';

export interface WebhookOptions {
  url: string;
  /** Per-attempt deadline. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** First back-off; doubles after each failed attempt, capped at `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs?: number;
  /** Deliveries waiting beyond this are dropped, oldest first (a dead endpoint must not grow memory). */
  maxQueue?: number;
  /** Called once per delivery: delivered, given up, or dropped from the queue. */
  onOutcome?: (result: 'success' | 'failure' | 'dropped', detail: string) => void;
}

export class Webhook {
  private readonly queue: unknown[] = [];
  private busy = false;
  private readonly closed = new AbortController();
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly o: WebhookOptions) {}

  /** Queue a payload; returns at once. */
  send(payload: unknown): void {
    if (this.closed.signal.aborted) return;
    this.queue.push(payload);
    while (this.queue.length > (this.o.maxQueue ?? 20)) {
      this.queue.shift();
      this.o.onOutcome?.('dropped', 'queue full');
    }
    if (!this.busy) this.idle = this.pump();
  }

  /** Resolves when the queue is empty (for tests and orderly shutdown). */
  async drained(): Promise<void> {
    while (this.busy) await this.idle;
  }

  /** Abort the delivery in flight and forget the queue. */
  async close(): Promise<void> {
    this.closed.abort();
    this.queue.length = 0;
    await this.idle.catch(() => undefined);
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length && !this.closed.signal.aborted) {
        const payload = this.queue.shift();
        const r = await this.deliver(payload);
        this.o.onOutcome?.(r.ok ? 'success' : 'failure', r.detail);
      }
    } finally {
      this.busy = false;
    }
  }

  private async deliver(payload: unknown): Promise<{ ok: boolean; detail: string }> {
    const body = JSON.stringify(payload);
    let detail = '';
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) {
        const wait = Math.min(this.o.backoffMs * 2 ** (attempt - 1), this.o.maxBackoffMs ?? 60_000);
        if (!(await sleep(wait, this.closed.signal))) return { ok: false, detail: 'daemon stopping' };
      }
      // One controller with a plain timer, not AbortSignal.any([AbortSignal.timeout(…), …]): on
      // Node 20 the combined signal holds its sources weakly, and a collected timeout signal never
      // fires — seen here as a hung webhook that was never abandoned under GC pressure.
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(new DOMException('webhook attempt timed out', 'TimeoutError')), this.o.timeoutMs);
      const onClose = (): void => ac.abort(this.closed.signal.reason);
      this.closed.signal.addEventListener('abort', onClose, { once: true });
      try {
        const res = await fetch(this.o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': `netcheck/${version()}` },
          body,
          signal: ac.signal,
        });
        await res.body?.cancel().catch(() => undefined);
        if (res.ok) return { ok: true, detail: `HTTP ${res.status} after ${attempt + 1} attempt(s)` };
        detail = `HTTP ${res.status}`;
        // A client error other than timeout/rate limit will not get better by retrying.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        detail = e.name === 'TimeoutError' ? `no answer within ${this.o.timeoutMs}ms` : (e.cause?.code ?? e.name);
        if (this.closed.signal.aborted) return { ok: false, detail: 'daemon stopping' };
      } finally {
        clearTimeout(timer);
        this.closed.signal.removeEventListener('abort', onClose);
      }
    }
    return { ok: false, detail };
  }
}

/** Sleep unless aborted; true when the full time passed. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
