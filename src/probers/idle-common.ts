/**
 * What the idle-timer kinds (`tcp-idle`, `udp-idle`, `ws-idle`) share: several flows opened in
 * parallel at t0 with staggered silent gaps; after its gap each flow waits for the reflector to
 * speak first (a stateful firewall that forgot the flow drops nothing until then: the lab tests show it), then answers
 * (the reverse direction). The per-kind files only say how to open a channel; the exchange with the
 * reflector is reflector/client.ts, the verdict idle-verdict.ts.
 *
 * All waits are against absolute deadlines (util/deadline.ts), never counted ticks.
 */
import { setMaxListeners } from 'node:events';
import { arm, awaitWake, back, hello, type Channel, type ChannelEvent } from '../reflector/client.js';
import type { IdleFlowResult, ProbeContext, ProbeOutcome, ProbeSpec } from '../types.js';
import { nowMs } from '../util/deadline.js';
import { formatDuration } from '../util/duration.js';
import { idleOptions, type IdleOptions, type IdleProbeOptions, type Protocol } from '../kinds/idle-options.js';
import { afterGap, armRefusal, lossOf, summarise, wakeTextOf } from './idle-verdict.js';

export type { IdleOptions, Protocol } from '../kinds/idle-options.js';

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

/** One flow as it runs: its channel, its signals, and its result (reported on every change). */
class FlowRun {
  readonly signals: AbortSignal[];
  constructor(
    readonly ch: Channel,
    readonly id: string,
    readonly gapMs: number,
    readonly env: FlowEnv,
    readonly result: IdleFlowResult,
  ) {
    this.signals = [env.signal, ...(env.stop ? [env.stop] : [])];
  }
  set(patch: Partial<IdleFlowResult>): void {
    Object.assign(this.result, patch);
    this.env.onUpdate();
  }
  stopped(): boolean {
    return !!this.env.stop?.aborted || this.env.signal.aborted;
  }
  /** The channel failed or closed: the flow is lost, in `direction`. */
  lose(e: ChannelEvent, direction: IdleFlowResult['direction'], t0: number): void {
    const patch = lossOf(e, this.env.protocol, direction, Math.round(nowMs() - t0));
    if (patch) this.set(patch);
  }
  interrupted(detail: string): void {
    this.set({ state: 'pending', survived: null, reason: 'INTERRUPTED', detail });
  }
  /** A failure during set-up (greeting or arming): an error of the flow, not a loss. */
  failedSetUp(e: ChannelEvent): void {
    this.lose(e, 'during-gap', nowMs());
    this.set({ state: 'error', survived: null, detail: `the flow failed during set-up: ${this.result.detail}` });
  }
}

/** Run one flow of a check, from open to decision. Never throws for network conditions. */
async function runFlow(open: () => Promise<OpenResult>, id: string, gapMs: number, env: FlowEnv, result: IdleFlowResult, held: Set<string>): Promise<void> {
  const opened = await open();
  if (!opened.ok) {
    Object.assign(result, { state: 'error', survived: null, reason: opened.outcome.reason, detail: `could not open the flow: ${opened.outcome.detail ?? opened.outcome.reason}` });
    env.onUpdate();
    return;
  }
  const f = new FlowRun(opened.channel, id, gapMs, env, result);
  try {
    if (env.opts.mode === 'hold') return await hold(f, held, nowMs(), 'told not to speak to this endpoint (mode: hold)');
    const armed = await setUp(f, held);
    if (armed) await gapAndBack(f, armed.token, armed.seen);
  } finally {
    f.ch.close();
  }
}

/** Hold: the far end is not a reflector (or we were told not to speak to it); only a close during the gap shows anything. */
async function hold(f: FlowRun, held: Set<string>, t0: number, why: string): Promise<void> {
  held.add(f.id);
  if (f.env.protocol === 'udp') {
    f.set({ state: 'unproven', survived: null, reason: 'NOT_A_REFLECTOR', detail: `${why}; a UDP flow has no state visible from this side, so without a reflector nothing can be measured` });
    return;
  }
  const e = await f.ch.next(t0 + f.gapMs, f.signals);
  if (e === 'aborted') return f.interrupted('stopped before the gap ended');
  if (e === 'timeout' || e.type === 'message' || e.type === 'data') {
    f.set({
      state: 'unproven',
      survived: null,
      reason: 'HELD_OPEN',
      detail: `still open after ${formatDuration(f.gapMs)} from our side; the server did not speak after the gap, so an expired firewall state would not have shown`,
    });
    return;
  }
  f.lose(e, 'during-gap', t0);
  f.result.detail += ` after ${formatDuration(f.result.lostAtMs ?? 0)} idle — by the server or by the path; only a reflector can tell which`;
}

/** Greet the reflector and arm the flow: its token and source as the reflector saw it, or undefined when the flow ended here. */
async function setUp(f: FlowRun, held: Set<string>): Promise<{ token: string; seen?: string } | undefined> {
  const { opts } = f.env;
  const h = await hello(f.ch, opts.setupMs, f.signals);
  if (h === 'aborted') return void f.interrupted('stopped during set-up');
  if (h === 'timeout' && f.ch.datagram) {
    // UDP silence: the reflector's port may be blocked as well as absent; never call it a non-reflector.
    return void f.set({ state: 'error', survived: null, reason: 'UDP_SILENCE', detail: `no answer to the reflector greeting within ${formatDuration(opts.setupMs)}: UDP to this port is blocked, or no reflector listens there` });
  }
  if (h === 'timeout' || h.type === 'data') {
    return void (await hold(f, held, nowMs(), h === 'timeout' ? 'the far end did not answer the reflector greeting: it is not a netcheck reflector' : 'the far end answered, but not as a netcheck reflector'));
  }
  if (h.type !== 'message') return void f.failedSetUp(h);
  if (h.msg.verb === 'ERR') return void f.set({ state: 'error', survived: null, reason: `REFLECTOR_${(h.msg.fields.code ?? 'error').toUpperCase()}`, detail: `the reflector refused the greeting (${h.msg.fields.code})` });
  const token = h.msg.fields.t ?? '';
  const armed = await arm(f.ch, token, f.id, f.gapMs, f.env.secret, opts.setupMs, f.signals);
  if (armed === 'aborted') return void f.interrupted('stopped during set-up');
  if (armed === 'timeout' || armed.type === 'data') return void f.set({ state: 'error', survived: null, reason: 'REFLECTOR_NO_ANSWER', detail: 'the reflector answered the greeting but not the request to arm the flow' });
  if (armed.type !== 'message') return void f.failedSetUp(armed);
  if (armed.msg.verb === 'ERR') return void f.set(armRefusal(armed.msg.fields.code ?? 'error'));
  const seen = armed.msg.fields.seen;
  return { token, ...(seen ? { seen } : {}) };
}

/** The silent gap, the reflector's send after it, and the client's answer on the same flow. */
async function gapAndBack(f: FlowRun, token: string, seen: string | undefined): Promise<void> {
  const { opts, protocol } = f.env;
  const t0 = nowMs();
  f.set({ state: 'pending', survived: null, reason: 'WAITING', detail: 'idle', ...(seen ? { seen } : {}) });

  // The silent gap: wait for the reflector to speak first.
  const gapEnd = t0 + f.gapMs;
  const w = await awaitWake(f.ch, f.id, gapEnd, opts.graceMs, f.signals);
  if (w === 'aborted') return f.interrupted(`stopped ${formatDuration(Math.max(0, gapEnd - nowMs()))} before the gap ended`);
  if (!w.woke && w.event) return f.lose(w.event, 'during-gap', t0);
  if (w.woke) f.result.wakeLateMs = w.lateMs;
  const woke = w.woke;
  if (f.stopped()) return f.interrupted('stopped before the answer');

  // The reverse direction: the client answers on the same flow.
  const b = await back(f.ch, token, f.id, opts.backWaitMs, f.signals);
  const wakeText = wakeTextOf(woke, f.gapMs);
  if (b === 'aborted') {
    if (!woke) return f.interrupted('stopped during the answer');
    return f.set({ state: 'survived', survived: true, reason: 'WAKE_RECEIVED', detail: `${wakeText} (stopped before the answer came back)` });
  }
  if (b !== 'timeout' && (b.type === 'error' || b.type === 'closed')) {
    f.lose(b, woke ? 'client-to-reflector' : 'reflector-to-client', t0);
    f.result.detail = `${wakeText}; then ${f.result.detail}`;
    return;
  }
  const backOk = b !== 'timeout' && b.type === 'message' && b.msg.verb === 'BACKOK' ? b.msg : undefined;
  const seenAfter = backOk?.fields.seen;
  if (seenAfter) f.result.seenAfter = seenAfter;
  f.set(afterGap({ protocol, gapMs: f.gapMs, backWaitMs: opts.backWaitMs, woke, ...(f.result.wakeLateMs !== undefined ? { wakeLateMs: f.result.wakeLateMs } : {}), backOk: !!backOk, ...(seen ? { seen } : {}), ...(seenAfter ? { seenAfter } : {}) }));
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
