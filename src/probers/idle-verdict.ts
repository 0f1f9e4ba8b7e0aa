/**
 * What an idle-timer check concludes: how a flow was lost (a reset, an ICMP error, a close, a
 * silent drop, a new NAT mapping), what a flow's answer after the gap proves, the bracket a set of
 * flows shows, and the check's verdict against the required idle time.
 */
import type { IdleBracket, IdleCheckData, IdleFlowResult, IdleLoss, ProbeOutcome, Status, Verdict } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { classify } from '../net/classify.js';
import type { IdleOptions, Protocol } from '../kinds/idle-options.js';
import type { ChannelEvent } from '../reflector/client.js';
import { because, reasonInfo, type FixedReason } from '../reasons.js';

export function lossFromCode(protocol: Protocol, code: string | undefined): IdleLoss {
  const l = code ? reasonInfo(code)?.idleLoss : undefined;
  // A connected UDP socket reports ICMP port unreachable as ECONNREFUSED; on TCP that code after
  // the handshake would be odd, so any unknown TCP error counts as a reset.
  if (l) return l;
  return protocol === 'udp' ? 'icmp' : 'rst';
}

export function describeLoss(l: IdleLoss, protocol: Protocol, code?: string, closeCode?: number): string {
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

/** A flow's result when its channel failed (`error`) or was closed: how, in which direction, how long after `t0`. */
export function lossOf(e: ChannelEvent, protocol: Protocol, direction: IdleFlowResult['direction'], lostAtMs: number): Partial<IdleFlowResult> | undefined {
  if (e.type === 'error') {
    const l = lossFromCode(protocol, e.code);
    return { state: 'lost', survived: false, lost: l, direction, reason: e.code ?? 'ERROR', detail: describeLoss(l, protocol, e.code), lostAtMs };
  }
  if (e.type === 'closed') {
    return { state: 'lost', survived: false, lost: 'closed', direction, reason: e.code !== undefined ? `WS_CLOSE_${e.code}` : 'FIN', detail: describeLoss('closed', protocol, undefined, e.code), lostAtMs, ...(e.code !== undefined ? { closeCode: e.code } : {}) };
  }
  return undefined;
}

/** Why the reflector refused to arm a flow, by its ERR code. */
export function armRefusal(code: string): Partial<IdleFlowResult> {
  const why: Record<string, string> = {
    auth: 'the reflector needs the shared secret (--reflector-secret) and this one is missing or wrong',
    token: 'the reflector did not accept its own token (did the source address change during set-up?)',
    flows: 'the reflector holds too many flows',
    gap: 'the gap is longer than the reflector allows',
  };
  return { state: 'error', survived: null, reason: `REFLECTOR_${code.toUpperCase()}`, detail: why[code] ?? `the reflector refused to arm the flow (${code})` };
}

/** What the gap and the answer after it show, once the answer came back (`seenAfter`: from which source) or not. */
export interface AfterGap {
  protocol: Protocol;
  gapMs: number;
  backWaitMs: number;
  /** The reflector's send after the gap arrived, `wakeLateMs` after it was due. */
  woke: boolean;
  wakeLateMs?: number;
  /** The answer's BACKOK arrived. */
  backOk: boolean;
  /** The flow's source as the reflector saw it when armed, and when the answer came. */
  seen?: string;
  seenAfter?: string;
}

/** The flow's result from its wake and its answer: survived, lost silently (which direction), or remapped by a NAT. */
export function afterGap(g: AfterGap): Partial<IdleFlowResult> {
  const { woke, backOk, seen, seenAfter } = g;
  const wakeText = wakeTextOf(woke, g.gapMs);
  if (backOk && seen && seenAfter && seenAfter !== seen) {
    return {
      state: 'lost',
      survived: false,
      lost: 'nat-remapped',
      direction: woke ? 'client-to-reflector' : 'reflector-to-client',
      reason: 'NAT_REMAPPED',
      detail: `${wakeText}; the answer reached the reflector from ${seenAfter}, not ${seen}: the NAT mapping expired and a new one was made`,
    };
  }
  if (woke && backOk) return { state: 'survived', survived: true, reason: 'WAKE_RECEIVED', detail: `${wakeText} (${g.wakeLateMs} ms after the deadline) and the answer came back on the same mapping` };
  if (woke) {
    return { state: 'lost', survived: false, lost: 'silent-drop', direction: 'client-to-reflector', reason: 'BACK_UNANSWERED', detail: `${wakeText}, but the answer got no reply within ${formatDuration(g.backWaitMs)}` };
  }
  // No wake: whether the answer still got through tells an expired mapping from a forgotten flow.
  return {
    state: 'lost',
    survived: false,
    lost: 'silent-drop',
    direction: 'reflector-to-client',
    reason: 'WAKE_MISSING',
    detail: backOk
      ? `${wakeText}, yet the answer got through on the same mapping: the path dropped the reflector's send silently (its state had expired; the answer made new state)${g.protocol === 'udp' ? ', or the datagram was lost' : ''}`
      : `${wakeText}, and the answer got no reply within ${formatDuration(g.backWaitMs)}: the path forgot the flow and drops it silently`,
  };
}

/** Whether the reflector's send after the gap arrived, in words. */
export function wakeTextOf(woke: boolean, gapMs: number): string {
  return woke ? `the reflector's send after ${formatDuration(gapMs)} arrived` : `the reflector's send after ${formatDuration(gapMs)} never arrived`;
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

