/**
 * udp-idle: does this path keep an idle UDP flow (its NAT mapping and firewall state) for the
 * required time (ESChat: 1 minute)? One connected socket per gap (only a connected socket hears
 * ICMP errors), all from t0; after each gap the reflector sends first, then the client answers and
 * the reflector says which source address:port it saw, so a NAT remapping shows.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { IdleProbeOptions } from '../kinds/idle-options.js';
import type { Prober } from '../types.js';
import { classify, errorCode } from '../net/classify.js';
import { resolveTarget } from '../net/target.js';
import { Channel } from '../reflector/client.js';
import { runIdleCheck, type OpenResult } from './idle-common.js';

class UdpChannel extends Channel {
  readonly newline = false;
  readonly datagram = true;
  private closed = false;
  constructor(private readonly s: Socket) {
    super();
    s.on('message', (msg) => this.pushMessage(msg));
    s.on('error', (err) => this.push({ type: 'error', code: errorCode(err) }));
  }
  send(b: Buffer): void {
    if (this.closed) return;
    this.s.send(b, (err) => {
      if (err) this.push({ type: 'error', code: errorCode(err) });
    });
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.s.close();
    } catch {
      /* already closed */
    }
  }
}

export const udpIdle: Prober<IdleProbeOptions> = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address, family } = target;
  const open = (): Promise<OpenResult> =>
    new Promise((resolve) => {
      const s = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      const onError = (err: Error): void => {
        try {
          s.close();
        } catch {
          /* not open */
        }
        resolve({ ok: false, outcome: classify(errorCode(err), 'udp') });
      };
      s.once('error', onError);
      s.connect(spec.port!, address, () => {
        s.off('error', onError);
        resolve({ ok: true, channel: new UdpChannel(s), address });
      });
    });
  return runIdleCheck(spec, ctx, 'udp', open);
};
