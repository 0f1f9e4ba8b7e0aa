/**
 * udp: send a datagram on a *connected* socket (only a connected socket is told about ICMP).
 * A reply is `ok`; ICMP port unreachable is `refused`; ICMP host/net/admin is `unreachable`;
 * silence is `open|filtered`, never `ok`. The datagram is re-sent a few times within the deadline
 * because UDP loss is normal.
 */
import { createSocket, type Socket } from 'node:dgram';
import { DEFAULTS } from '../constants.js';
import type { UdpOptions } from '../kinds/udp.js';
import type { Prober, ProbeOutcome } from '../types.js';
import { classify, errorCode } from '../net/classify.js';
import { decodePayload, ms, resolveTarget } from '../net/target.js';
import { because } from '../reasons.js';

const DEFAULT_PAYLOAD = 'netcheck udp probe\n';

export const udp: Prober<UdpOptions> = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address, family } = target;
  const phases = target.resolveMs === undefined ? {} : { resolveMs: ms(target.resolveMs) };
  const payload = decodePayload(spec.options.payload ?? DEFAULT_PAYLOAD);
  const expect = spec.options.expect !== undefined ? decodePayload(spec.options.expect) : undefined;
  const sends = DEFAULTS.udpSends;

  let sock: Socket | undefined;
  const timers: NodeJS.Timeout[] = [];
  const t0 = performance.now();
  try {
    return await new Promise<ProbeOutcome>((resolve) => {
      const s = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      sock = s;
      let sent = 0;
      const finish = (o: ProbeOutcome): void => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ address, ...o, phases: { ...phases, ...o.phases }, data: { sent, ...o.data } });
      };
      const onAbort = (): void =>
        finish({
          ...because('UDP_SILENCE'),
          detail: `no reply and no ICMP error to ${sent} datagram(s) within ${spec.timeoutMs}ms: a listener that does not answer this payload, or a firewall dropping silently`,
        });
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const send = (): void => {
        s.send(payload, (err) => {
          if (err) finish({ ...classify(errorCode(err), 'udp') });
        });
        sent++;
      };
      s.on('error', (err) => finish({ ...classify(errorCode(err), 'udp'), phases: { connectMs: ms(performance.now() - t0) } }));
      s.on('message', (msg) => {
        const rtt = ms(performance.now() - t0);
        if (expect && !msg.includes(expect)) {
          finish({
            ...because('UDP_UNEXPECTED_REPLY'),
            detail: `a reply came back (${msg.length} bytes) but did not contain the expected bytes: something else answers on this port`,
            phases: { firstByteMs: rtt },
            data: { replyBytes: msg.length },
          });
          return;
        }
        finish({ ...because('UDP_REPLY'), detail: `reply of ${msg.length} bytes`, phases: { firstByteMs: rtt }, data: { replyBytes: msg.length } });
      });
      s.connect(spec.port!, address, (err?: Error) => {
        // connect() itself fails with no route (ENETUNREACH): the socket is not connected, and
        // send() without an address would throw, so the failure is the outcome.
        if (err) return finish({ ...classify(errorCode(err), 'udp'), phases: { connectMs: ms(performance.now() - t0) } });
        send();
        // Re-send at even fractions of the deadline; the first reply or ICMP error ends the probe.
        for (let i = 1; i < sends; i++) timers.push(setTimeout(send, (spec.timeoutMs * i) / sends));
      });
    });
  } finally {
    for (const t of timers) clearTimeout(t);
    try {
      sock?.close();
    } catch {
      /* already closed */
    }
  }
};
