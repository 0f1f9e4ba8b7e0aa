/**
 * nat: how this network's NAT maps and filters UDP (issue 17), which decides whether peer-to-peer
 * media can work or needs a relay (TURN). Against a netcheck reflector serving two UDP ports
 * (`--udp 4201-4202`), in the terms of RFC 4787 / RFC 5780:
 *
 * - **filtering** first, before the second port has ever been contacted: from one socket, ask port
 *   A to answer from port B (`NATF`). If B's answer gets in, the NAT lets in packets from a port
 *   this host never sent to (endpoint-independent, or address-dependent: one reflector address
 *   cannot tell these apart); if it never does while A answers, filtering is address-and-port-
 *   dependent.
 * - **mapping**: the same socket greets port A, then port B (`HELLO`); each answer says which
 *   public address:port the reflector saw. The same for both: endpoint-independent mapping (the
 *   NAT keeps one public port per socket, so hole punching works); different: the mapping depends
 *   on the destination (a "symmetric" NAT): media between two such hosts needs a relay.
 *
 * A seen address that is one of this host's own means there is no NAT on the way.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { REFLECTOR_DEFAULTS, encode, isControl, parse, type Message } from '../reflector/protocol.js';
import type { NatOptions } from '../kinds/nat.js';
import type { NatData, NatFiltering, NatMapping, Prober, ProbeOutcome } from '../types.js';
import { NAT_WAIT_MS } from '../media/options.js';
import { formatDuration } from '../util/duration.js';
import { classify, errorCode } from '../net/classify.js';
import { resolveTarget } from '../net/target.js';
import { stunNat } from './nat-stun.js';
import { because } from '../reasons.js';

export type { NatData, NatFiltering, NatMapping } from '../types.js';

interface Reply {
  msg: Message;
  from: RemoteInfo;
}

export const nat: Prober<NatOptions> = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address, family } = target;
  // A STUN server with RFC 5780 (`server: stun`): its second address tells address dependence too.
  if (spec.options.server === 'stun') return stunNat({ address, port: spec.port! }, Math.min(NAT_WAIT_MS, spec.timeoutMs / 6), ctx.signal);
  const portA = spec.port!;
  const portB = spec.options.altPort ?? portA + 1;
  // Within the engine's deadline (media/options.ts): three exchanges of at most this long each.
  const waitMs = Math.min(NAT_WAIT_MS, spec.timeoutMs / 4);
  let sock: Socket | undefined;
  try {
    const s = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    sock = s;
    const replies: Reply[] = [];
    let waiter: (() => void) | undefined;
    let sockError: string | undefined;
    s.on('message', (b, from) => {
      if (!isControl(b)) return;
      const m = parse(b);
      if ('error' in m) return;
      replies.push({ msg: m, from });
      waiter?.();
    });
    s.on('error', (err) => {
      sockError = errorCode(err) ?? 'EIO';
      waiter?.();
    });
    await new Promise<void>((resolve) => s.bind(0, resolve));
    /** Send to `port` up to 3 times; the first reply matching `want`. */
    const ask = async (buf: Buffer, port: number, want: (r: Reply) => boolean): Promise<Reply | undefined> => {
      const deadline = performance.now() + waitMs;
      for (let i = 0; i < 3; i++) {
        s.send(buf, port, address);
        const slotEnd = i === 2 ? deadline : performance.now() + waitMs / 3;
        while (performance.now() < slotEnd && !ctx.signal.aborted) {
          const hit = replies.find(want);
          if (hit) return hit;
          await new Promise<void>((r) => {
            const t = setTimeout(r, slotEnd - performance.now());
            waiter = () => {
              clearTimeout(t);
              r();
            };
          });
          waiter = undefined;
        }
        const hit = replies.find(want);
        if (hit) return hit;
      }
      return undefined;
    };
    const hello = (port: number): Promise<Reply | undefined> =>
      ask(encode('HELLO', { n: randomBytes(6).toString('hex') }, REFLECTOR_DEFAULTS.helloPadBytes), port, (r) => r.from.port === port && (r.msg.verb === 'TOKEN' || r.msg.verb === 'ERR'));

    const a = await hello(portA);
    if (!a) {
      if (sockError) return { ...classify(sockError, 'udp'), address };
      return { ...because('UDP_SILENCE'), detail: `no answer from a reflector on UDP ${portA} within ${formatDuration(waitMs)}: blocked, or no reflector listens there`, address };
    }
    if (a.msg.verb === 'ERR') return { status: 'error', reason: `REFLECTOR_${(a.msg.fields.code ?? 'error').toUpperCase()}`, detail: `the reflector refused the greeting (${a.msg.fields.code})`, address };
    const seenA = a.msg.fields.seen ?? '';
    const token = a.msg.fields.t ?? '';
    const local = s.address();
    const notes: string[] = [];

    // Filtering, while port B has never been contacted from this socket.
    const natf = await ask(encode('NATF', { t: token, via: portB }, REFLECTOR_DEFAULTS.mediaPadBytes), portA, (r) => (r.msg.verb === 'NATFOK' && r.from.port === portB) || (r.msg.verb === 'ERR' && r.from.port === portA));
    let filtering: NatFiltering;
    if (natf?.msg.verb === 'ERR') {
      filtering = 'unknown';
      notes.push(natf.msg.fields.code === 'port' ? `the reflector does not serve UDP ${portB} (start it with --udp ${portA}-${portB})` : `the reflector refused the filtering test (${natf.msg.fields.code}; an older reflector?)`);
    } else filtering = natf ? 'endpoint-independent-or-address-dependent' : 'address-and-port-dependent';

    // Mapping: the same socket towards the second port.
    const b = await hello(portB);
    const seen = [{ port: portA, seen: seenA }, ...(b?.msg.verb === 'TOKEN' && b.msg.fields.seen ? [{ port: portB, seen: b.msg.fields.seen }] : [])];
    const own = isOwnAddress(seenA, local.port);
    let mapping: NatMapping;
    if (own) {
      mapping = 'none';
      filtering = filtering === 'unknown' ? 'unknown' : 'none';
      notes.push(`the reflector saw this host's own address (${seenA}): no NAT between here and there`);
    } else if (seen.length < 2) {
      mapping = 'unknown';
      notes.push(`no answer from UDP ${portB}: the mapping could not be compared`);
    } else mapping = seen[0]!.seen === seen[1]!.seen ? 'endpoint-independent' : 'address-and-port-dependent';
    if (filtering === 'endpoint-independent-or-address-dependent' && !own) {
      notes.push(`an answer from UDP ${portB}, which this socket never sent to, got in: filtering is endpoint-independent or address-dependent (one reflector address cannot tell which)`);
    } else if (filtering === 'address-and-port-dependent' && !own) {
      notes.push(`an answer from UDP ${portB}, which this socket never sent to, was filtered while UDP ${portA} answered: filtering is address-and-port-dependent`);
    }
    if (mapping === 'endpoint-independent') notes.push(`one socket kept one public address:port (${seenA}) towards both ports: endpoint-independent mapping; peer-to-peer media can work (hole punching)`);
    if (mapping === 'address-and-port-dependent') notes.push(`one socket appeared as ${seen[0]!.seen} towards UDP ${portA} and ${seen[1]!.seen} towards UDP ${portB}: the mapping depends on the destination (a "symmetric" NAT); peer-to-peer media needs a relay (TURN)`);
    const data: NatData = {
      method: 'reflector',
      ports: [portA, portB],
      seen,
      local: `${local.address}:${local.port}`,
      mapping,
      filtering,
      needsRelay: mapping === 'unknown' ? null : mapping !== 'none' && mapping !== 'endpoint-independent',
      notes,
    };
    const outcome: ProbeOutcome = {
      ...because(mapping === 'none' ? 'NAT_NONE' : mapping === 'endpoint-independent' ? 'NAT_ENDPOINT_INDEPENDENT' : mapping === 'address-and-port-dependent' ? 'NAT_SYMMETRIC' : 'NAT_UNKNOWN'),
      detail: notes.join('; '),
      address,
      data: data as unknown as Record<string, unknown>,
    };
    return outcome;
  } finally {
    try {
      sock?.close();
    } catch {
      /* not open */
    }
  }
};

/** Is `seen` (addr:port, as the reflector formats it) this host's own address and this port? */
function isOwnAddress(seen: string, localPort: number): boolean {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(seen);
  if (!m || Number(m[2]) !== localPort) return false;
  const addr = m[1]!;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => i.address === addr));
}
