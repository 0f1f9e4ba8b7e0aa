/**
 * media: does audio survive this path? (issue 17). Streams paced datagrams (default 50/s of 172
 * bytes, G.711 at 20 ms, for 10 s) on a vendor's UDP port to a netcheck reflector, which echoes
 * each one and counts what arrived, so loss is known per direction: sent − received by the
 * reflector is lost on the way up; echoed − received back is lost on the way down. Reports RTT,
 * RFC 3550 jitter per direction, loss per direction, reordering, duplicates and an E-model MOS
 * (src/media/quality.ts), judged against thresholds (default loss < 1 %, RTT < 100 ms,
 * jitter < 30 ms: Microsoft's targets for Teams).
 *
 * Outcome: `ok` when every threshold holds; `filtered` (MEDIA_LOSS) when loss is above it in a
 * direction — datagrams vanished where an answer was due; `timeout` (MEDIA_RTT, MEDIA_JITTER) when
 * echoes came back, but too late or too unevenly for speech.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { decodeMediaPacket, encodeMediaPacket, isMediaPacket, Rfc3550Jitter } from '../media/packet.js';
import { DRAIN_MAX_MS, mediaOptions, type MediaOptions, type MediaProbeOptions } from '../media/options.js';
import { estimateMos, mosWords, percentile, type Thresholds } from '../media/quality.js';
import { REFLECTOR_DEFAULTS, encode, isControl, mediaMac, parse, type Message } from '../reflector/protocol.js';
import type { Prober, ProbeOutcome, Status } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { classify, errorCode } from '../net/classify.js';
import { resolveTarget } from '../net/target.js';
import { because, type FixedReason } from '../reasons.js';

/** `ProbeOutcome.data` of a media check. */
export interface MediaData {
  /** The reflector's counters were read (per-direction figures), or not (round trip only). */
  perDirection: boolean;
  codec: string;
  pps: number;
  sizeBytes: number;
  durationMs: number;
  sent: number;
  /** Echoes received back (unique). */
  received: number;
  /** What the reflector counted (MSTATS), when it answered. */
  reflector?: { received: number; duplicates: number; reordered: number; echoed: number; rateLimited: number; jitterMs: number };
  rttMs?: { min: number; avg: number; median: number; p95: number; max: number };
  lossPct: { up?: number; down?: number; roundTrip: number };
  jitterMs: { up?: number; down: number };
  reordered: { up?: number; down?: number; roundTrip: number };
  duplicates: { up?: number; down?: number; roundTrip: number };
  mos?: { up?: number; down?: number; overall: number; rFactor: number; words: string };
  thresholds: Thresholds;
  /** Thresholds not met, e.g. `loss up 4.8% ≥ 1%`. */
  exceeded: string[];
  /** Stopped early (Ctrl-C): figures cover what was sent. */
  stopped?: boolean;
}

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r2 = (v: number): number => Math.round(v * 100) / 100;

/** Tries of each control request (HELLO, MEDIA, MSTAT): see {@link Link.request}. */
const REQUEST_TRIES = 5;

/** A datagram socket that queues control replies and hands media echoes to a callback. */
class Link {
  private waiters: ((m: Message | { error: string }) => void)[] = [];
  private queue: (Message | { error: string })[] = [];
  constructor(
    readonly sock: Socket,
    onMedia: (b: Buffer, at: number) => void,
  ) {
    sock.on('message', (b: Buffer) => {
      const at = performance.now();
      if (isMediaPacket(b)) return onMedia(b, at);
      if (!isControl(b)) return this.push({ error: 'NOT_A_REFLECTOR' });
      const m = parse(b);
      if ('error' in m) return;
      // Our own request coming back: an echo server, not a reflector.
      if (m.verb === 'HELLO' || m.verb === 'MEDIA' || m.verb === 'MSTAT') return this.push({ error: 'NOT_A_REFLECTOR' });
      this.push(m);
    });
    sock.on('error', (err) => this.push({ error: errorCode(err) ?? 'EIO' }));
  }
  private push(m: Message | { error: string }): void {
    const w = this.waiters.shift();
    if (w) w(m);
    else this.queue.push(m);
  }
  private next(ms: number, signal: AbortSignal): Promise<Message | { error: string } | 'timeout'> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve) => {
      const done = (v: Message | { error: string } | 'timeout'): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(v);
      };
      const waiter = (m: Message | { error: string }): void => done(m);
      const onAbort = (): void => done('timeout');
      const t = setTimeout(() => done('timeout'), ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
  /**
   * Send a request up to {@link REQUEST_TRIES} times within `ms`; the reply of `verb` (or an ERR, or
   * an error). A reply to an earlier try still counts (the reflector answers the same request again
   * rather than refusing it). Five tries, not three: on a path losing 20 % on the way up, all three
   * were lost in about 1 run in 125, and a lossy path read as a reflector that did not answer.
   */
  async request(buf: Buffer, verb: string, ms: number, signal: AbortSignal): Promise<Message | { error: string } | 'timeout'> {
    const deadline = performance.now() + ms;
    for (let i = 0; i < REQUEST_TRIES && !signal.aborted; i++) {
      this.sock.send(buf);
      const slotEnd = i === REQUEST_TRIES - 1 ? deadline : performance.now() + ms / REQUEST_TRIES;
      for (;;) {
        const left = slotEnd - performance.now();
        if (left <= 0) break;
        const e = await this.next(left, signal);
        if (e === 'timeout') break;
        if ('error' in e) return e;
        if (e.verb === verb || e.verb === 'ERR') return e;
      }
    }
    return 'timeout';
  }
}

export const media: Prober<MediaProbeOptions> = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address, family } = target;
  const o = mediaOptions(spec.options);
  const secret = ctx.reflectorSecret ?? spec.options.secret;
  const n = Math.max(1, Math.round((o.pps * o.durationMs) / 1000));
  const sid = randomBytes(8);
  const sidHex = sid.toString('hex');
  const sentAt = new Float64Array(n).fill(NaN);
  const got = new Uint8Array(n);
  const rtts: number[] = [];
  const down = new Rfc3550Jitter();
  let rtJitter = 0;
  let lastRtt: number | undefined;
  let received = 0;
  let dupRt = 0;
  let oooRt = 0;
  let maxSeq = -1;
  const onMedia = (b: Buffer, at: number): void => {
    const f = decodeMediaPacket(b);
    if (f.sid !== sidHex || f.seq >= n || Number.isNaN(sentAt[f.seq]!)) return;
    if (got[f.seq]) {
      dupRt++;
      return;
    }
    got[f.seq] = 1;
    received++;
    const rtt = at - sentAt[f.seq]!;
    rtts.push(rtt);
    // Round-trip jitter, for a far end that cannot stamp (and as a cross-check).
    if (lastRtt !== undefined) rtJitter += (Math.abs(rtt - lastRtt) - rtJitter) / 16;
    lastRtt = rtt;
    if (f.seq < maxSeq) oooRt++;
    else maxSeq = f.seq;
    down.add(f.reflectorMs, at);
  };

  let sock: Socket | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    sock = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    const s = sock;
    const connected = await new Promise<Error | undefined>((resolve) => {
      s.once('error', resolve);
      s.connect(spec.port!, address, (err?: Error) => {
        s.off('error', resolve);
        resolve(err);
      });
    });
    if (connected) return { ...classify(errorCode(connected), 'udp'), address };
    const link = new Link(s, onMedia);
    const fail = (e: { error: string }, during: string): ProbeOutcome =>
      e.error === 'NOT_A_REFLECTOR'
        ? { ...because('NOT_A_REFLECTOR'), detail: `the far end answered ${during}, but not as a netcheck reflector: per-direction loss needs one (\`netcheck reflect --udp ${spec.port}\`)`, address }
        : { ...classify(e.error, 'udp'), address };

    // Set-up: a token bound to our address, then the session.
    const hello = await link.request(encode('HELLO', { n: randomBytes(6).toString('hex') }, REFLECTOR_DEFAULTS.helloPadBytes), 'TOKEN', o.setupMs, ctx.signal);
    if (hello === 'timeout') {
      return { ...because('UDP_SILENCE'), detail: `no answer to the reflector greeting within ${formatDuration(o.setupMs)}: UDP ${spec.port} is blocked, or no reflector listens there`, address };
    }
    if ('error' in hello) return fail(hello, 'the greeting');
    if (hello.verb === 'ERR') return { status: 'error', reason: `REFLECTOR_${(hello.fields.code ?? 'error').toUpperCase()}`, detail: `the reflector refused the greeting (${hello.fields.code})`, address };
    const token = hello.fields.t ?? '';
    const fields: Record<string, string | number> = { t: token, id: sidHex, pps: o.pps, dur: o.durationMs, size: o.size };
    if (secret !== undefined) fields.mac = mediaMac(secret, token, sidHex, o.pps, o.durationMs, o.size);
    const opened = await link.request(encode('MEDIA', fields, REFLECTOR_DEFAULTS.mediaPadBytes), 'MEDIAOK', o.setupMs, ctx.signal);
    if (opened === 'timeout') return { ...because('REFLECTOR_NO_ANSWER'), detail: `the reflector answered the greeting but none of ${REQUEST_TRIES} requests to open a media session: heavy loss on the way, or an older reflector`, address };
    if ('error' in opened) return fail(opened, 'the session request');
    if (opened.verb === 'ERR') {
      const code = opened.fields.code ?? 'error';
      const why: Record<string, string> = {
        auth: 'the reflector needs the shared secret (--reflector-secret / --secret) and this one is missing or wrong',
        media: `the reflector does not allow ${o.pps} packets/s of ${o.size} bytes for ${formatDuration(o.durationMs)}`,
        flows: 'the reflector holds too many media sessions (from this address, or in all)',
        verb: 'the reflector does not know media sessions (an older version)',
      };
      return { status: 'error', reason: `REFLECTOR_${code.toUpperCase()}`, detail: why[code] ?? `the reflector refused the media session (${code})`, address };
    }

    // Long streams say when they end (the CLI shows it); Ctrl-C from here on reports what was sent.
    // (No flows: a timer countdown running beside it counts none of this.)
    ctx.progress?.({ id: spec.id, endsAt: Date.now() + o.durationMs, flows: 0, alive: 0, lost: 0, pending: 0, failed: 0 });
    // The stream: packet i leaves at t0 + i/pps (absolute times, so timer drift does not add up);
    // a late wake-up sends what is due, each stamped with its real send time.
    const stop = ctx.stopSignal;
    const interval = 1000 / o.pps;
    const t0 = performance.now();
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        while (sent < n && t0 + sent * interval <= now) {
          const at = performance.now();
          sentAt[sent] = at;
          s.send(encodeMediaPacket(sid, sent, at, o.size));
          sent++;
        }
        if (sent >= n || ctx.signal.aborted || stop?.aborted) return resolve();
        timers.push(setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now())));
      };
      tick();
    });
    const stopped = sent < n;
    // Late echoes: a few round trips, at least half a second, at most DRAIN_MAX_MS.
    const slowest = rtts.length ? Math.max(...rtts) : 500;
    await new Promise<void>((r) => timers.push(setTimeout(r, Math.min(DRAIN_MAX_MS, Math.max(500, 3 * slowest)))));

    const stat = ctx.signal.aborted ? 'timeout' : await link.request(encode('MSTAT', { t: token, id: sidHex }, REFLECTOR_DEFAULTS.mediaPadBytes), 'MSTATS', o.setupMs, ctx.signal);
    const mstats = stat !== 'timeout' && !('error' in stat) && stat.verb === 'MSTATS' ? stat.fields : undefined;
    return judge(o, { sent, received, rtts, downJitter: down.jitter, rtJitter, dupRt, oooRt, stopped, ...(mstats ? { mstats } : {}) }, address);
  } finally {
    for (const t of timers) clearTimeout(t);
    try {
      sock?.close();
    } catch {
      /* not open */
    }
  }
};

interface Measured {
  sent: number;
  received: number;
  rtts: number[];
  downJitter: number;
  rtJitter: number;
  dupRt: number;
  oooRt: number;
  stopped: boolean;
  mstats?: Record<string, string>;
}

/** Figures, MOS and verdict from what was measured. */
export function judge(o: MediaOptions, m: Measured, address: string): ProbeOutcome {
  const num = (k: string): number => Number(m.mstats?.[k] ?? NaN);
  const refl = m.mstats
    ? { received: num('rx'), duplicates: num('dup'), reordered: num('ooo'), echoed: num('echo'), rateLimited: num('drop'), jitterMs: r2(num('jit') / 1000) }
    : undefined;
  const pct = (lost: number, of: number): number => (of > 0 ? r2((100 * Math.max(0, lost)) / of) : 100);
  const sorted = [...m.rtts].sort((a, b) => a - b);
  const avg = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  const lossPct = {
    ...(refl ? { up: pct(m.sent - refl.received, m.sent), down: pct(refl.echoed - m.received, refl.echoed) } : {}),
    roundTrip: pct(m.sent - m.received, m.sent),
  };
  const jitterMs = { ...(refl ? { up: refl.jitterMs } : {}), down: r2(m.downJitter) };
  const data: MediaData = {
    perDirection: !!refl,
    codec: 'G.711 at 20 ms (for the MOS estimate)',
    pps: o.pps,
    sizeBytes: o.size,
    durationMs: o.durationMs,
    sent: m.sent,
    received: m.received,
    ...(refl ? { reflector: refl } : {}),
    ...(sorted.length ? { rttMs: { min: r1(sorted[0]!), avg: r1(avg), median: r1(percentile(sorted, 50)), p95: r1(percentile(sorted, 95)), max: r1(sorted[sorted.length - 1]!) } } : {}),
    lossPct,
    jitterMs,
    reordered: { ...(refl ? { up: refl.reordered, down: Math.max(0, m.oooRt - refl.reordered) } : {}), roundTrip: m.oooRt },
    duplicates: { ...(refl ? { up: refl.duplicates, down: Math.max(0, m.dupRt - refl.duplicates) } : {}), roundTrip: m.dupRt },
    thresholds: { maxLossPct: o.maxLossPct, maxRttMs: o.maxRttMs, maxJitterMs: o.maxJitterMs },
    exceeded: [],
    ...(m.stopped ? { stopped: true } : {}),
  };
  if (m.received === 0 && !refl) {
    return {
      ...because('MEDIA_NO_ECHO'),
      detail: `the session opened, but none of ${m.sent} datagrams came back and the reflector's counters did not either: media on this port is dropped (the direction is unknown)`,
      address,
      data: data as unknown as Record<string, unknown>,
    };
  }
  // MOS per direction: each listener hears one direction's loss and jitter, over the same delay.
  const rtt = Number.isNaN(avg) ? 0 : avg;
  const dirs: { name: 'up' | 'down'; loss: number; jitter: number }[] = refl
    ? [
        { name: 'up', loss: lossPct.up!, jitter: jitterMs.up! },
        { name: 'down', loss: lossPct.down!, jitter: jitterMs.down },
      ]
    : [{ name: 'down', loss: lossPct.roundTrip, jitter: Math.max(jitterMs.down, m.rtJitter) }];
  const mos = dirs.map((d) => ({ ...d, ...estimateMos(rtt, d.jitter, d.loss) }));
  const worst = mos.reduce((a, b) => (b.mos < a.mos ? b : a));
  data.mos = {
    ...(refl ? { up: mos[0]!.mos, down: mos[1]!.mos } : {}),
    overall: worst.mos,
    rFactor: worst.r,
    words: mosWords(worst.mos),
  };
  // Thresholds, loss first: it is what listeners hear most.
  const dirName = (d: string): string => (refl ? (d === 'up' ? 'up' : 'down') : 'round trip');
  let { status, reason }: { status: Status; reason: FixedReason } = because('MEDIA_OK');
  for (const d of dirs) {
    if (d.loss >= o.maxLossPct) {
      data.exceeded.push(`loss ${dirName(d.name)} ${d.loss}% ≥ ${o.maxLossPct}%`);
      if (status === 'ok') ({ status, reason } = because('MEDIA_LOSS'));
    }
  }
  if (!Number.isNaN(avg) && avg >= o.maxRttMs) {
    data.exceeded.push(`RTT ${r1(avg)} ms ≥ ${o.maxRttMs} ms`);
    if (status === 'ok') ({ status, reason } = because('MEDIA_RTT'));
  }
  for (const d of dirs) {
    if (d.jitter >= o.maxJitterMs) {
      data.exceeded.push(`jitter ${dirName(d.name)} ${d.jitter} ms ≥ ${o.maxJitterMs} ms`);
      if (status === 'ok') ({ status, reason } = because('MEDIA_JITTER'));
    }
  }
  return { status, reason, detail: describeMedia(data), address, data: data as unknown as Record<string, unknown> };
}

/** One sentence with every figure (the line's evidence). */
export function describeMedia(d: MediaData): string {
  const loss = d.perDirection ? `loss ↑${d.lossPct.up}% ↓${d.lossPct.down}%` : `loss ${d.lossPct.roundTrip}% (round trip; the reflector's counters did not come back)`;
  const jitter = d.perDirection ? `jitter ↑${d.jitterMs.up} ↓${d.jitterMs.down} ms` : `jitter ${d.jitterMs.down} ms`;
  const rtt = d.rttMs ? `RTT ${d.rttMs.avg} ms (p95 ${d.rttMs.p95})` : 'no RTT (no echo)';
  const extra = [d.reordered.roundTrip ? `${d.reordered.roundTrip} reordered` : '', d.duplicates.roundTrip ? `${d.duplicates.roundTrip} duplicated` : ''].filter(Boolean).join(', ');
  const mos = d.mos ? `, MOS ${d.mos.overall} (${d.mos.words})` : '';
  // Held back by the reflector's rate limit: this host sent in bursts (a stalled event loop), not the network.
  const held = d.reflector?.rateLimited ? `; the reflector held back ${d.reflector.rateLimited} datagram(s) that came faster than declared (not counted as loss)` : '';
  const verdict = d.exceeded.length ? ` — above the thresholds: ${d.exceeded.join('; ')}` : ` — within loss < ${d.thresholds.maxLossPct}%, RTT < ${d.thresholds.maxRttMs} ms, jitter < ${d.thresholds.maxJitterMs} ms`;
  return `${d.sent} datagrams of ${d.sizeBytes} B at ${d.pps}/s${d.stopped ? ' (stopped early)' : ''}: ${rtt}, ${jitter}, ${loss}${extra ? `, ${extra}` : ''}${mos}${verdict}${held}`;
}
