/**
 * Per-source limits of the reflector: token buckets for messages and echo bytes, and the count of
 * open connections per source address.
 */
import { nowMs } from '../util/deadline.js';
import type { ReflectorStats } from './peer.js';

/** Token bucket per source address. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}
  take(ip: string, n = 1): boolean {
    const t = nowMs();
    let b = this.buckets.get(ip);
    if (!b) {
      // Bound the table: under a flood of spoofed sources, forget everyone rather than grow.
      if (this.buckets.size >= 100_000) this.buckets.clear();
      b = { tokens: this.burst, at: t };
      this.buckets.set(ip, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  }
  sweep(): void {
    const t = nowMs();
    for (const [ip, b] of this.buckets) if (t - b.at > 60_000) this.buckets.delete(ip);
  }
}

/** The source address as limits count it: an IPv4-mapped IPv6 address is its IPv4 address. */
export function stripMapped(a: string): string {
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** Per-source connection accounting for TCP and WebSocket. */
export class Admission {
  private readonly perIp = new Map<string, number>();
  constructor(
    private readonly maxPerSource: number,
    private readonly stats: ReflectorStats,
    private readonly log: (line: string) => void,
  ) {}
  admit(ip: string): boolean {
    const n = this.perIp.get(ip) ?? 0;
    if (n >= this.maxPerSource) {
      this.stats.refused.flows = (this.stats.refused.flows ?? 0) + 1;
      this.log(`refused connection from ${ip}: ${n} already open`);
      return false;
    }
    this.perIp.set(ip, n + 1);
    this.stats.connections++;
    return true;
  }
  release(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
    this.stats.connections--;
  }
}
