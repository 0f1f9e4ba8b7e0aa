/**
 * ws-hold: hold a WebSocket (ws or wss) open for a duration with the vendor's ping cadence, and
 * report whether, when and how it dropped: a close frame (with its code), a reset, or silence
 * (pongs stopped coming). Pings go out at absolute deadlines (t0 + k × cadence), never counted
 * ticks. A held connection whose pings were answered proves the path keeps it with that cadence.
 */
import type { ProbeOutcome, Prober } from '../types.js';
import { atDeadline, nowMs } from '../util/deadline.js';
import { formatDuration } from '../util/duration.js';
import { errorCode } from '../net/classify.js';
import { ms } from '../net/target.js';
import { openWebSocket } from './ws-common.js';
import { dur, HOLD_MS, PONG_TIMEOUT_MS, type WsHoldOptions } from '../kinds/ws-hold.js';
import { because } from '../reasons.js';

export const wsHold: Prober<WsHoldOptions> = async (spec, ctx) => {
  const o = spec.options;
  const holdMs = dur(o.hold, HOLD_MS, 'hold');
  const pingEveryMs = dur(o.pingEvery, 30_000, 'pingEvery');
  const pongTimeoutMs = dur(o.pongTimeout, PONG_TIMEOUT_MS, 'pongTimeout');
  const t0 = nowMs();
  const opened = await openWebSocket(spec, ctx, spec.setupTimeoutMs ?? Math.min(10_000, spec.timeoutMs));
  if (!opened.ok) return opened.outcome;
  const { ws, socket, address } = opened;
  const connectMs = ms(nowMs() - t0);
  const start = nowMs();
  const endsAt = Date.now() + holdMs;
  let pings = 0;
  let pongs = 0;
  let maxRttMs = 0;
  // Pings and pongs show the held WebSocket alive while it is held.
  ctx.progress?.({ id: spec.id, endsAt, flows: 1, alive: 1, lost: 0, pending: 0, failed: 0 });
  try {
    const end = await new Promise<{ how: 'held' | 'rst' | 'closed' | 'silence' | 'stopped'; code?: string; closeCode?: number; reason?: string }>((resolve) => {
      let settled = false;
      let cancelPing = (): void => undefined;
      let cancelPong = (): void => undefined;
      let cancelEnd = (): void => undefined;
      let sentAt = 0;
      const done = (v: Parameters<typeof resolve>[0]): void => {
        if (settled) return;
        settled = true;
        cancelPing();
        cancelPong();
        cancelEnd();
        ctx.signal.removeEventListener('abort', onStop);
        ctx.stopSignal?.removeEventListener('abort', onStop);
        resolve(v);
      };
      const onStop = (): void => done({ how: 'stopped' });
      ctx.signal.addEventListener('abort', onStop, { once: true });
      ctx.stopSignal?.addEventListener('abort', onStop, { once: true });
      socket.on('error', (err) => done({ how: 'rst', code: errorCode(err) ?? 'ECONNRESET' }));
      ws.on('close', (code: number, reason: Buffer) => done({ how: 'closed', closeCode: code, reason: reason.toString('utf8').slice(0, 120) }));
      ws.on('pong', () => {
        pongs++;
        maxRttMs = Math.max(maxRttMs, nowMs() - sentAt);
        cancelPong();
      });
      const schedulePing = (k: number): void => {
        const at = start + k * pingEveryMs;
        if (at >= start + holdMs) return;
        cancelPing = atDeadline(at, () => {
          sentAt = nowMs();
          pings++;
          try {
            ws.ping();
          } catch {
            /* closing: the close event says how */
          }
          cancelPong = atDeadline(sentAt + pongTimeoutMs, () => done({ how: 'silence' }));
          schedulePing(k + 1);
        });
      };
      schedulePing(1);
      cancelEnd = atDeadline(start + holdMs, () => done({ how: 'held' }));
    });
    const heldMs = Math.round(nowMs() - start);
    const data = { holdMs, pingEveryMs, pings, pongs, maxRttMs: ms(maxRttMs), heldMs, ...(end.closeCode !== undefined ? { closeCode: end.closeCode } : {}) };
    const cadence = pingEveryMs < holdMs ? `pinging every ${formatDuration(pingEveryMs)}` : 'without pings';
    let out: ProbeOutcome;
    switch (end.how) {
      case 'held':
        out = { ...because('WS_HELD'), detail: `held open for ${formatDuration(heldMs)} ${cadence}; ${pongs} of ${pings} pings answered` };
        break;
      case 'stopped':
        out = { ...because('INTERRUPTED'), detail: `stopped after ${formatDuration(heldMs)} of ${formatDuration(holdMs)}; the WebSocket was still open` };
        break;
      case 'rst':
        out = { ...because('WS_DROPPED_RST'), detail: `dropped after ${formatDuration(heldMs)} ${cadence}: the connection was reset (${end.code})` };
        break;
      case 'closed':
        out = {
          ...because('WS_DROPPED_CLOSE'),
          detail: `dropped after ${formatDuration(heldMs)} ${cadence}: ${end.closeCode === 1006 ? 'the connection ended without a close frame (1006)' : `closed with code ${end.closeCode}${end.reason ? ` (${end.reason})` : ''}`}`,
        };
        break;
      case 'silence':
        out = { ...because('WS_DROPPED_SILENT'), detail: `dropped after ${formatDuration(heldMs)} ${cadence}: a ping got no pong within ${formatDuration(pongTimeoutMs)} (the path went silent)` };
        break;
    }
    const kept = end.how === 'held' || end.how === 'stopped';
    ctx.progress?.({ id: spec.id, endsAt, flows: 1, alive: kept ? 1 : 0, lost: kept ? 0 : 1, pending: 0, failed: 0 });
    return { ...out, address, phases: { connectMs }, data };
  } finally {
    ws.terminate();
  }
};

