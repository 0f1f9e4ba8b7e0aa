/**
 * The reflector's side of `netcheck media` (issue 17; protocol in docs/reflector.md): media
 * sessions a client opens with `MEDIA` (packet rate, size, duration), whose datagrams are echoed
 * at that rate instead of the general per-source limit, and counted, so the client learns what
 * arrived on the way up (`MSTAT` → `MSTATS`).
 *
 * Safety, as for the rest of the reflector: a session is bound to the source address:port that
 * proved it can receive (its token) and, with a secret, to a valid HMAC; an echo is the very
 * datagram received, same length, with 12 bytes of it overwritten; each session has its own token
 * bucket at its declared rate (25 % headroom), and sessions are capped per source and in all.
 */
import { nowMs } from '../util/deadline.js';
import { MEDIA_MAX_BYTES, MEDIA_MIN_BYTES, Rfc3550Jitter, stampEcho } from '../media/packet.js';

/** Limits of media sessions (REFLECTOR_DEFAULTS holds the defaults). */
export interface MediaLimits {
  maxPps: number;
  maxMs: number;
  /** Packets × bytes per second one source may ask for, over all its sessions. */
  bytesPerSecondPerSource: number;
  sessionsPerSource: number;
  maxSessions: number;
  /** How long a session's counters stay readable after it ends. */
  retainMs: number;
}

interface Session {
  key: string;
  ip: string;
  pps: number;
  size: number;
  durMs: number;
  /** Packets expected (pps × duration), and the seq bitmap. */
  capacity: number;
  got: Uint8Array;
  endsAt: number;
  forgetAt: number;
  tokens: number;
  burst: number;
  at: number;
  rx: number;
  dup: number;
  ooo: number;
  echoed: number;
  dropped: number;
  maxSeq: number;
  jitter: Rfc3550Jitter;
  /** Ended (by MSTAT or time): its share of its source's limits was given back; counters stay readable. */
  released: boolean;
}

/** Why a MEDIA request was refused (an `ERR code=`). */
export type MediaRefusal = 'media' | 'flows' | 'dup';

/** Late packets of a session are still its own this long after its end (a slow client's last ones). */
const LATE_MS = 5000;

export class MediaSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly perIp = new Map<string, { n: number; bps: number }>();

  constructor(private readonly limits: MediaLimits) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Check a request against the limits (without opening anything). */
  problem(pps: number, size: number, durMs: number): string | undefined {
    const L = this.limits;
    if (!Number.isInteger(pps) || pps < 1 || pps > L.maxPps) return `pps must be 1-${L.maxPps}`;
    if (!Number.isInteger(size) || size < MEDIA_MIN_BYTES || size > MEDIA_MAX_BYTES) return `size must be ${MEDIA_MIN_BYTES}-${MEDIA_MAX_BYTES}`;
    if (!Number.isInteger(durMs) || durMs < 100 || durMs > L.maxMs) return `dur must be 100-${L.maxMs}`;
    if (pps * size > L.bytesPerSecondPerSource) return `pps × size above ${L.bytesPerSecondPerSource} bytes/s`;
    return undefined;
  }

  /** Open a session for `seen|sid`. */
  open(ip: string, seen: string, sid: string, pps: number, size: number, durMs: number): 'ok' | 'again' | MediaRefusal {
    this.sweep();
    if (this.problem(pps, size, durMs)) return 'media';
    const key = `${seen}|${sid}`;
    const open = this.sessions.get(key);
    // The same request again from the same source (its MEDIAOK was lost, or came after the client
    // had sent it again): answered again, opening nothing. Refusing it as a duplicate turned a lost
    // MEDIAOK on a lossy path into an error of the probe (lab: 5 % dropped on the way down).
    if (open) return !open.released && open.pps === pps && open.size === size && open.durMs === durMs ? 'again' : 'dup';
    const mine = this.perIp.get(ip) ?? { n: 0, bps: 0 };
    if (this.sessions.size >= this.limits.maxSessions || mine.n >= this.limits.sessionsPerSource || mine.bps + pps * size > this.limits.bytesPerSecondPerSource) return 'flows';
    const now = nowMs();
    const capacity = Math.ceil((pps * durMs) / 1000) + 64;
    const burst = Math.max(10, Math.ceil(pps / 2));
    this.sessions.set(key, {
      key,
      ip,
      pps,
      size,
      durMs,
      capacity,
      got: new Uint8Array(Math.ceil(capacity / 8)),
      endsAt: now + durMs,
      forgetAt: now + durMs + this.limits.retainMs,
      tokens: burst,
      burst,
      at: now,
      rx: 0,
      dup: 0,
      ooo: 0,
      echoed: 0,
      dropped: 0,
      maxSeq: -1,
      jitter: new Rfc3550Jitter(),
      released: false,
    });
    this.perIp.set(ip, { n: mine.n + 1, bps: mine.bps + pps * size });
    return 'ok';
  }

  /**
   * A media datagram from `seen`: the echo to send (the same buffer, stamped), `limited` (over the
   * session's rate: dropped and counted), or `unknown` (no such live session from this source: the
   * caller treats it as any other datagram, under the general limits).
   */
  packet(seen: string, sid: string, seq: number, sentMs: number, msg: Buffer): Buffer | 'limited' | 'unknown' {
    const s = this.sessions.get(`${seen}|${sid}`);
    const now = nowMs();
    if (!s || s.released || now > s.endsAt + LATE_MS || msg.length !== s.size || seq >= s.capacity) return 'unknown';
    // Counted as received first: a datagram held back by the rate limit did arrive, so it must
    // not read as lost on the way up (it is missing from `echo` instead, and counted in `drop`).
    const bit = 1 << (seq & 7);
    const first = !(s.got[seq >> 3]! & bit);
    if (!first) s.dup++;
    else {
      s.got[seq >> 3]! |= bit;
      s.rx++;
      if (seq < s.maxSeq) s.ooo++;
      else s.maxSeq = seq;
      s.jitter.add(sentMs, now);
    }
    s.tokens = Math.min(s.burst, s.tokens + ((now - s.at) / 1000) * s.pps * 1.25);
    s.at = now;
    if (s.tokens < 1) {
      s.dropped++;
      return 'limited';
    }
    s.tokens -= 1;
    if (first) s.echoed++;
    stampEcho(msg, now, s.rx);
    return msg;
  }

  /**
   * A session's counters for `MSTATS`, or undefined when it is not known (or forgotten). Asking
   * ends the session: its datagrams are no longer echoed at its rate, and its share of its source's
   * limits is given back at once, so a client may measure again straight away.
   */
  counters(seen: string, sid: string): Record<string, number> | undefined {
    const s = this.sessions.get(`${seen}|${sid}`);
    if (!s) return undefined;
    this.release(s);
    return { rx: s.rx, dup: s.dup, ooo: s.ooo, echo: s.echoed, drop: s.dropped, jit: Math.round(s.jitter.jitter * 1000), max: s.maxSeq };
  }

  /**
   * Give an ended session's share of its source's limits back (a client may measure again at
   * once), and forget sessions whose counters have been readable long enough.
   */
  sweep(): void {
    const now = nowMs();
    for (const s of this.sessions.values()) {
      if (now > s.endsAt + LATE_MS) this.release(s);
      if (now >= s.forgetAt) this.sessions.delete(s.key);
    }
  }

  private release(s: Session): void {
    if (s.released) return;
    s.released = true;
    const m = this.perIp.get(s.ip);
    if (m && m.n <= 1) this.perIp.delete(s.ip);
    else if (m) this.perIp.set(s.ip, { n: m.n - 1, bps: m.bps - s.pps * s.size });
  }

  clear(): void {
    this.sessions.clear();
    this.perIp.clear();
  }
}
