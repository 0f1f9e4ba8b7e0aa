/**
 * ws-idle: does this path keep an idle WebSocket (ws or wss) for the required time? Like
 * tcp-idle, but the NCR1 messages travel as WebSocket text frames, so the check also crosses
 * proxies and TLS inspection the way a vendor's WebSocket would. No pings: they would refresh the
 * very state being measured (`ws-hold` is the check with the vendor's ping cadence).
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { WsIdleOptions } from '../kinds/ws-idle.js';
import type { Prober } from '../types.js';
import { errorCode } from '../net/classify.js';
import { Channel } from '../reflector/client.js';
import { runIdleCheck, type OpenResult } from './idle-common.js';
import { idleOptions } from '../kinds/idle-options.js';
import { openWebSocket } from './ws-common.js';

class WsChannel extends Channel {
  readonly newline = false;
  readonly datagram = false;
  constructor(
    private readonly ws: WebSocket,
    socket: Socket,
  ) {
    super();
    // ws swallows socket errors and reports only close 1006; the reset must be seen here.
    socket.on('error', (err) => this.push({ type: 'error', code: errorCode(err) }));
    ws.on('message', (data: Buffer, isBinary: boolean) => (isBinary ? this.push({ type: 'data' }) : this.pushMessage(Buffer.from(data))));
    // 1006 with no socket error before it: the TCP connection ended without a close frame.
    ws.on('close', (code: number) => this.push({ type: 'closed', code }));
    ws.on('error', (err) => this.push({ type: 'error', code: errorCode(err) }));
  }
  send(b: Buffer): void {
    if (this.ws.readyState === 1) this.ws.send(b, { binary: false });
  }
  close(): void {
    this.ws.terminate();
  }
}

export const wsIdle: Prober<WsIdleOptions> = async (spec, ctx) => {
  const setupMs = idleOptions('ws', spec.options).setupMs;
  const open = async (): Promise<OpenResult> => {
    const r = await openWebSocket(spec, ctx, setupMs);
    if (!r.ok) return { ok: false, outcome: r.outcome };
    return { ok: true, channel: new WsChannel(r.ws, r.socket), address: r.address };
  };
  return runIdleCheck(spec, ctx, 'ws', open);
};
