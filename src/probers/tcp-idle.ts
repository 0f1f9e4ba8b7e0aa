/**
 * tcp-idle: does this path keep an idle TCP flow for the required time (ESChat: 12 minutes)?
 * Opens one connection per gap to a netcheck reflector, all at t0; each stays silent for its gap,
 * then the reflector speaks first and the client answers (see ./idle-common.ts). OS keepalive is
 * off on these sockets: a keepalive probe would refresh the very state being measured.
 */
import { connect, type Socket } from 'node:net';
import type { IdleProbeOptions } from '../kinds/idle-options.js';
import type { Prober } from '../types.js';
import { classify, errorCode, synTimeout } from '../net/classify.js';
import { resolveTarget } from '../net/target.js';
import { Channel } from '../reflector/client.js';
import { runIdleCheck, type OpenResult } from './idle-common.js';
import { idleOptions } from '../kinds/idle-options.js';
import { because } from '../reasons.js';

const MAX_LINE = 1024;

class TcpChannel extends Channel {
  readonly newline = true;
  readonly datagram = false;
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly s: Socket) {
    super();
    s.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      for (;;) {
        const nl = this.buf.indexOf(0x0a);
        if (nl < 0) break;
        this.pushMessage(Buffer.from(this.buf.subarray(0, nl + 1)));
        this.buf = this.buf.subarray(nl + 1);
      }
      if (this.buf.length > MAX_LINE) {
        this.buf = Buffer.alloc(0);
        this.push({ type: 'data' });
      }
    });
    s.on('error', (err) => this.push({ type: 'error', code: errorCode(err) }));
    s.on('end', () => this.push({ type: 'closed' }));
  }
  send(b: Buffer): void {
    if (!this.s.destroyed) this.s.write(b);
  }
  close(): void {
    // RST rather than FIN: checks of many flows must not leave sockets in TIME_WAIT.
    if (this.s.destroyed) return;
    if (this.s.readyState === 'open') this.s.resetAndDestroy();
    else this.s.destroy();
  }
}

export const tcpIdle: Prober<IdleProbeOptions> = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address } = target;
  const setupMs = idleOptions('tcp', spec.options).setupMs;
  const open = (): Promise<OpenResult> =>
    new Promise((resolve) => {
      const s = connect({ host: address, port: spec.port!, noDelay: true, keepAlive: false });
      s.setKeepAlive(false);
      const timer = setTimeout(() => finish({ ok: false, outcome: synTimeout(`no answer to the connection request within ${setupMs}ms`) }), setupMs);
      const onAbort = (): void => finish({ ok: false, outcome: { ...because('INTERRUPTED'), detail: 'stopped before the connection was made' } });
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let done = false;
      const finish = (r: OpenResult): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        s.off('error', onError);
        if (!r.ok) s.destroy();
        resolve(r);
      };
      const onError = (err: Error): void => finish({ ok: false, outcome: classify(errorCode(err), 'connect') });
      s.once('error', onError);
      s.once('connect', () => finish({ ok: true, channel: new TcpChannel(s), address }));
    });
  return runIdleCheck(spec, ctx, 'tcp', open);
};
