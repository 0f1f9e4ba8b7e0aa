/**
 * What the idle-timer kinds (`tcp-idle`, `udp-idle`, `ws-idle`) share: several flows opened in
 * parallel at t0 with staggered silent gaps; after its gap each flow waits for the reflector to
 * speak first (a stateful firewall that forgot the flow drops nothing until then: the lab tests show it), then answers
 * (the reverse direction). The per-kind files only say how to open a channel.
 *
 * All waits are against absolute deadlines (util/deadline.ts), never counted ticks.
 */
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { REFLECTOR_DEFAULTS, armMac, encode, isControl, parse, type Message } from '../reflector/protocol.js';
import type { IdleBracket, IdleCheckData, IdleFlowResult, IdleLoss, ProbeContext, ProbeOutcome, ProbeSpec, Status, Verdict } from '../types.js';
import { atDeadline, nowMs } from '../util/deadline.js';
import { formatDuration } from '../util/duration.js';
import { classify } from '../net/classify.js';
import { idleOptions, type IdleOptions, type IdleProbeOptions, type Protocol } from '../kinds/idle-options.js';
import { because, reasonInfo, type FixedReason } from '../reasons.js';

export type { IdleOptions, Protocol } from '../kinds/idle-options.js';

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

export type OpenResult = { ok: true; channel: Channel; address: string } | { ok: false; outcome: ProbeOutcome };

interface FlowEnv {
  protocol: Protocol;
  opts: IdleOptions;
  secret?: string;
  /** Deadline or hard interrupt: stop at once. */
  signal: AbortSignal;
  /** First Ctrl-C: stop waiting, report what is known. */
  stop?: AbortSignal;
  onUpdate: () => void;
}

function lossFromCode(protocol: Protocol, code: string | undefined): IdleLoss {
  const l = code ? reasonInfo(code)?.idleLoss : undefined;
  // A connected UDP socket reports ICMP port unreachable as ECONNREFUSED; on TCP that code after
  // the handshake would be odd, so any unknown TCP error counts as a reset.
  if (l) return l;
  return protocol === 'udp' ? 'icmp' : 'rst';
}

function describeLoss(l: IdleLoss, protocol: Protocol, code?: string, closeCode?: number): string {
  switch (l) {
    case 'rst':
      return `a TCP reset arrived (${code ?? 'RST'}): something on the path (or the reflector) tore the flow down`;
    case 'icmp':
      return `an ICMP error arrived (${code ?? 'ICMP'})`;
    case 'closed':
      return protocol === 'ws' ? `the WebSocket was closed${closeCode !== undefined ? ` (close code ${closeCode})` : ''}` : 'the connection was closed (FIN)';
    case 'silent-drop':
      return 'nothing arrived and nothing said why: the state was forgotten and packets dropped silently';
    case 'nat-remapped':
      return 'the NAT mapping changed';
  }
}

/** Run one flow of a check, from open to decision. Never throws for network conditions. */
async function runFlow(open: () => Promise<OpenResult>, id: string, gapMs: number, env: FlowEnv, result: IdleFlowResult, held: Set<string>): Promise<void> {
  const { protocol, opts } = env;
  const signals = [env.signal, ...(env.stop ? [env.stop] : [])];
  const set = (patch: Partial<IdleFlowResult>): void => {
    Object.assign(result, patch);
    env.onUpdate();
  };
  const opened = await open();
  if (!opened.ok) {
    set({ state: 'error', survived: null, reason: opened.outcome.reason, detail: `could not open the flow: ${opened.outcome.detail ?? opened.outcome.reason}` });
    return;
  }
  const ch = opened.channel;
  try {
    /** Send a request and wait for a reply of `verb` (re-sent on datagram transports). */
    const request = async (buf: Buffer, verb: string, waitMs: number): Promise<ChannelEvent | 'timeout' | 'aborted'> => {
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
    };
    const stopped = (): boolean => !!env.stop?.aborted || env.signal.aborted;
    const failFromEvent = (e: ChannelEvent, direction: IdleFlowResult['direction'], t0: number): void => {
      if (e.type === 'error') {
        const l = lossFromCode(protocol, e.code);
        set({ state: 'lost', survived: false, lost: l, direction, reason: e.code ?? 'ERROR', detail: describeLoss(l, protocol, e.code), lostAtMs: Math.round(nowMs() - t0) });
      } else if (e.type === 'closed') {
        set({ state: 'lost', survived: false, lost: 'closed', direction, reason: e.code !== undefined ? `WS_CLOSE_${e.code}` : 'FIN', detail: describeLoss('closed', protocol, undefined, e.code), lostAtMs: Math.round(nowMs() - t0), ...(e.code !== undefined ? { closeCode: e.code } : {}) });
      }
    };

    // Hold: the far end is not a reflector (or we were told not to speak to it).
    const hold = async (t0: number, why: string): Promise<void> => {
      held.add(id);
      if (protocol === 'udp') {
        set({ state: 'unproven', survived: null, reason: 'NOT_A_REFLECTOR', detail: `${why}; a UDP flow has no state visible from this side, so without a reflector nothing can be measured` });
        return;
      }
      const e = await ch.next(t0 + gapMs, signals);
      if (e === 'aborted') return set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail: 'stopped before the gap ended' });
      if (e === 'timeout' || e.type === 'message' || e.type === 'data') {
        set({
          state: 'unproven',
          survived: null,
          reason: 'HELD_OPEN',
          detail: `still open after ${formatDuration(gapMs)} from our side; the server did not speak after the gap, so an expired firewall state would not have shown`,
        });
        return;
      }
      failFromEvent(e, 'during-gap', t0);
      result.detail += ` after ${formatDuration(result.lostAtMs ?? 0)} idle — by the server or by the path; only a reflector can tell which`;
    };

    if (opts.mode === 'hold') return await hold(nowMs(), 'told not to speak to this endpoint (mode: hold)');

    const nonce = randomBytes(6).toString('hex');
    const hello = await request(encode('HELLO', { n: nonce }, REFLECTOR_DEFAULTS.helloPadBytes, ch.newline), 'TOKEN', opts.setupMs);
    if (hello === 'aborted') return set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail: 'stopped during set-up' });
    if (hello === 'timeout' && ch.datagram) {
      // UDP silence: the reflector's port may be blocked as well as absent; never call it a non-reflector.
      return set({ state: 'error', survived: null, reason: 'UDP_SILENCE', detail: `no answer to the reflector greeting within ${formatDuration(opts.setupMs)}: UDP to this port is blocked, or no reflector listens there` });
    }
    if (hello === 'timeout' || hello.type === 'data') {
      return await hold(nowMs(), hello === 'timeout' ? 'the far end did not answer the reflector greeting: it is not a netcheck reflector' : 'the far end answered, but not as a netcheck reflector');
    }
    if (hello.type !== 'message') {
      failFromEvent(hello, 'during-gap', nowMs());
      set({ state: 'error', survived: null, detail: `the flow failed during set-up: ${result.detail}` });
      return;
    }
    if (hello.msg.verb === 'ERR') return set({ state: 'error', survived: null, reason: `REFLECTOR_${(hello.msg.fields.code ?? 'error').toUpperCase()}`, detail: `the reflector refused the greeting (${hello.msg.fields.code})` });
    const token = hello.msg.fields.t ?? '';
    const fields: Record<string, string | number> = { t: token, id, gap: gapMs };
    if (env.secret !== undefined) fields.mac = armMac(env.secret, token, id, gapMs);
    const armed = await request(encode('ARM', fields, REFLECTOR_DEFAULTS.armPadBytes, ch.newline), 'ARMED', opts.setupMs);
    if (armed === 'aborted') return set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail: 'stopped during set-up' });
    if (armed === 'timeout' || armed.type === 'data') return set({ state: 'error', survived: null, reason: 'REFLECTOR_NO_ANSWER', detail: 'the reflector answered the greeting but not the request to arm the flow' });
    if (armed.type !== 'message') {
      failFromEvent(armed, 'during-gap', nowMs());
      set({ state: 'error', survived: null, detail: `the flow failed during set-up: ${result.detail}` });
      return;
    }
    if (armed.msg.verb === 'ERR') {
      const code = armed.msg.fields.code ?? 'error';
      const why: Record<string, string> = {
        auth: 'the reflector needs the shared secret (--reflector-secret) and this one is missing or wrong',
        token: 'the reflector did not accept its own token (did the source address change during set-up?)',
        flows: 'the reflector holds too many flows',
        gap: 'the gap is longer than the reflector allows',
      };
      return set({ state: 'error', survived: null, reason: `REFLECTOR_${code.toUpperCase()}`, detail: why[code] ?? `the reflector refused to arm the flow (${code})` });
    }
    const t0 = nowMs();
    const seen = armed.msg.fields.seen;
    set({ state: 'pending', survived: null, reason: 'WAITING', detail: 'idle', ...(seen ? { seen } : {}) });

    // The silent gap: wait for the reflector to speak first.
    const gapEnd = t0 + gapMs;
    let woke = false;
    for (;;) {
      const e = await ch.next(gapEnd + opts.graceMs, signals);
      if (e === 'aborted') return set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail: `stopped ${formatDuration(Math.max(0, gapEnd - nowMs()))} before the gap ended` });
      if (e === 'timeout') break;
      if (e.type === 'message' && e.msg.verb === 'WAKE' && e.msg.fields.id === id) {
        woke = true;
        result.wakeLateMs = Math.round(nowMs() - gapEnd);
        break;
      }
      if (e.type === 'error' || e.type === 'closed') {
        failFromEvent(e, 'during-gap', t0);
        return;
      }
    }
    if (stopped()) return set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail: 'stopped before the answer' });

    // The reverse direction: the client answers on the same flow.
    const back = await request(encode('BACK', { t: token, id }, REFLECTOR_DEFAULTS.backPadBytes, ch.newline), 'BACKOK', opts.backWaitMs);
    const wakeText = woke ? `the reflector's send after ${formatDuration(gapMs)} arrived` : `the reflector's send after ${formatDuration(gapMs)} never arrived`;
    if (back === 'aborted') {
      if (!woke) return set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail: 'stopped during the answer' });
      return set({ state: 'survived', survived: true, reason: 'WAKE_RECEIVED', detail: `${wakeText} (stopped before the answer came back)` });
    }
    if (back !== 'timeout' && (back.type === 'error' || back.type === 'closed')) {
      failFromEvent(back, woke ? 'client-to-reflector' : 'reflector-to-client', t0);
      result.detail = `${wakeText}; then ${result.detail}`;
      return;
    }
    const backOk = back !== 'timeout' && back.type === 'message' && back.msg.verb === 'BACKOK' ? back.msg : undefined;
    const seenAfter = backOk?.fields.seen;
    if (seenAfter) result.seenAfter = seenAfter;
    if (backOk && seen && seenAfter && seenAfter !== seen) {
      return set({
        state: 'lost',
        survived: false,
        lost: 'nat-remapped',
        direction: woke ? 'client-to-reflector' : 'reflector-to-client',
        reason: 'NAT_REMAPPED',
        detail: `${wakeText}; the answer reached the reflector from ${seenAfter}, not ${seen}: the NAT mapping expired and a new one was made`,
      });
    }
    if (woke && backOk) return set({ state: 'survived', survived: true, reason: 'WAKE_RECEIVED', detail: `${wakeText} (${result.wakeLateMs} ms after the deadline) and the answer came back on the same mapping` });
    if (woke) {
      return set({ state: 'lost', survived: false, lost: 'silent-drop', direction: 'client-to-reflector', reason: 'BACK_UNANSWERED', detail: `${wakeText}, but the answer got no reply within ${formatDuration(opts.backWaitMs)}` });
    }
    // No wake: whether the answer still got through tells an expired mapping from a forgotten flow.
    return set({
      state: 'lost',
      survived: false,
      lost: 'silent-drop',
      direction: 'reflector-to-client',
      reason: 'WAKE_MISSING',
      detail: backOk
        ? `${wakeText}, yet the answer got through on the same mapping: the path dropped the reflector's send silently (its state had expired; the answer made new state)${protocol === 'udp' ? ', or the datagram was lost' : ''}`
        : `${wakeText}, and the answer got no reply within ${formatDuration(opts.backWaitMs)}: the path forgot the flow and drops it silently`,
    });
  } finally {
    ch.close();
  }
}

/** The bracket that a set of flows shows. */
export function bracketOf(flows: IdleFlowResult[], protocol: Protocol): IdleBracket {
  const P = protocol === 'ws' ? 'WebSocket' : protocol.toUpperCase();
  const survived = flows.filter((f) => f.state === 'survived').map((f) => f.gapMs);
  const lost = flows.filter((f) => f.state === 'lost').map((f) => f.gapMs);
  const longest = survived.length ? Math.max(...survived) : undefined;
  const shortest = lost.length ? Math.min(...lost) : undefined;
  const consistent = longest === undefined || shortest === undefined || longest < shortest;
  let text: string;
  const d = formatDuration;
  if (longest === undefined && shortest === undefined) text = `no ${P} flow could be tested to its end`;
  else if (shortest === undefined) text = `this path kept idle ${P} flows for at least ${d(longest!)} (the longest gap tested)`;
  else if (longest === undefined) text = `this path forgets idle ${P} flows within ${d(shortest)} (the shortest gap tested)`;
  else if (consistent) text = `this path forgets idle ${P} flows after ${d(longest)} to ${d(shortest)}`;
  else text = `inconsistent: a ${P} flow idle ${d(shortest)} was lost while one idle ${d(longest)} survived (packet loss, or more than a simple idle timer)`;
  return { ...(longest !== undefined ? { longestSurvivedMs: longest } : {}), ...(shortest !== undefined ? { shortestLostMs: shortest } : {}), consistent, text };
}

const REASON_OF_LOSS: Record<IdleLoss, FixedReason> = {
  rst: 'IDLE_LOST_RST',
  icmp: 'IDLE_LOST_ICMP',
  closed: 'IDLE_LOST_CLOSED',
  'silent-drop': 'IDLE_LOST_SILENT',
  'nat-remapped': 'IDLE_NAT_REMAPPED',
};

/** Verdict and outcome of a check from its flows. */
export function summarise(flows: IdleFlowResult[], protocol: Protocol, opts: IdleOptions, interrupted: boolean, held: ReadonlySet<string> = new Set()): { outcome: Omit<ProbeOutcome, 'address'>; data: IdleCheckData } {
  const mode: IdleCheckData['mode'] = held.size > 0 && held.size >= flows.filter((f) => f.state !== 'error' && f.state !== 'pending').length ? 'hold' : opts.mode;
  const bracket = mode === 'hold' ? { consistent: true, text: 'not measured: the far end is not a netcheck reflector, so it never spoke after a gap' } : bracketOf(flows, protocol);
  const R = opts.requireMs;
  const P = protocol === 'ws' ? 'WebSocket' : protocol.toUpperCase();
  const lostEarly = flows.filter((f) => f.state === 'lost' && f.gapMs <= R).sort((a, b) => a.gapMs - b.gapMs);
  const provedLong = flows.some((f) => f.state === 'survived' && f.gapMs >= R);
  let verdict: Verdict;
  let verdictReason: string;
  let status: Status;
  let reason: string;
  const need = `required: ${formatDuration(R)}`;
  if (mode === 'hold') {
    const held = flows.filter((f) => f.state === 'unproven' && f.reason === 'HELD_OPEN').map((f) => f.gapMs);
    const lostHeld = flows.filter((f) => f.state === 'lost').sort((a, b) => a.gapMs - b.gapMs)[0];
    verdict = 'inconclusive';
    status = 'open|filtered';
    reason = 'IDLE_UNPROVEN';
    verdictReason = lostHeld
      ? `the far end is not a netcheck reflector; the ${P} flow ended ${lostHeld.detail.replace(/^./, (c) => c.toLowerCase())}`
      : held.length
        ? `still open after ${formatDuration(Math.max(...held))} from our side; the server did not speak after the gap, so an expired firewall state would not have shown (${need}; run against a netcheck reflector to prove it)`
        : (flows[0]?.detail ?? 'nothing could be measured');
  } else if (lostEarly.length) {
    const f = lostEarly[0]!;
    verdict = 'fail';
    ({ status, reason } = because(REASON_OF_LOSS[f.lost!]));
    verdictReason = `${bracket.text}; ${need}. The flow idle ${formatDuration(f.gapMs)} was lost: ${f.detail}`;
  } else if (provedLong) {
    verdict = 'pass';
    status = 'ok';
    reason = 'IDLE_TIMER_OK';
    verdictReason = `${bracket.text}; ${need}`;
  } else {
    verdict = 'inconclusive';
    const errors = flows.filter((f) => f.state === 'error');
    if (errors.length === flows.length && errors[0]) {
      const e = errors[0];
      const c = classify(e.reason, 'connect');
      status = e.reason === 'UDP_SILENCE' ? 'open|filtered' : c.status;
      reason = e.reason;
      verdictReason = `no flow could be set up: ${e.detail}`;
    } else if (interrupted) {
      status = 'skipped';
      reason = 'INTERRUPTED';
      verdictReason = `interrupted before a flow idle ${formatDuration(R)} or longer could finish; so far ${bracket.text}`;
    } else {
      // Nothing failed within the requirement, nothing proved it: ambiguous, like UDP silence.
      status = 'open|filtered';
      reason = 'IDLE_NOT_PROVEN';
      verdictReason = `${bracket.text}; ${need}, and no flow idle that long survived to prove it`;
    }
  }
  return {
    outcome: { status, reason, detail: verdictReason },
    data: { protocol, requireMs: R, mode, flows, bracket, verdict, verdictReason },
  };
}

/** Run an idle-timer check: all flows in parallel from t0, then the verdict. */
export async function runIdleCheck(spec: ProbeSpec<IdleProbeOptions>, ctx: ProbeContext, protocol: Protocol, open: () => Promise<OpenResult>): Promise<ProbeOutcome> {
  const opts = idleOptions(protocol, spec.options);
  const flows: IdleFlowResult[] = opts.gapsMs.map((gapMs, i) => ({ id: `f${i + 1}`, protocol, gapMs, state: 'pending', survived: null, reason: 'STARTING', detail: 'not started' }));
  const startedAt = Date.now();
  // When the last gap ends (set-up and the answer add a few seconds at most).
  const endsAt = startedAt + Math.max(...opts.gapsMs);
  const report = (): void => {
    // One bucket per flow: a flow idle in its gap is not known to be alive until the far end has
    // spoken after the gap, so it is pending, not alive (counting it as both made the sums exceed
    // the flows). A flow only held (the far end is not a reflector) is alive from this side.
    ctx.progress?.({
      id: spec.id,
      endsAt,
      flows: flows.length,
      alive: flows.filter((f) => f.state === 'survived' || f.state === 'unproven').length,
      lost: flows.filter((f) => f.state === 'lost').length,
      pending: flows.filter((f) => f.state === 'pending').length,
      failed: flows.filter((f) => f.state === 'error').length,
    });
  };
  let address: string | undefined;
  const env: FlowEnv = {
    protocol,
    opts,
    signal: ctx.signal,
    ...(ctx.stopSignal ? { stop: ctx.stopSignal } : {}),
    ...(ctx.reflectorSecret !== undefined ? { secret: ctx.reflectorSecret } : spec.options.secret !== undefined ? { secret: spec.options.secret } : {}),
    onUpdate: report,
  };
  report();
  const openTracked = async (): Promise<OpenResult> => {
    const r = await open();
    if (r.ok) address ??= r.address;
    return r;
  };
  // Each flow waits on these signals: raise the listener cap so many flows are not taken for a leak.
  setMaxListeners(Math.max(10, flows.length * 2 + 10), ctx.signal, ...(ctx.stopSignal ? [ctx.stopSignal] : []));
  const held = new Set<string>();
  await Promise.all(flows.map((f) => runFlow(openTracked, f.id, f.gapMs, env, f, held)));
  report();
  const interrupted = !!ctx.stopSignal?.aborted || ctx.signal.aborted;
  const { outcome, data } = summarise(flows, protocol, opts, interrupted, held);
  return { ...outcome, ...(address ? { address } : {}), data: data as unknown as Record<string, unknown> };
}
