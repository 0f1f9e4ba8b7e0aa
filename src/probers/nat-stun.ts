/**
 * NAT behaviour discovery with a STUN server that supports RFC 5780 (issue 17), for the `nat` kind
 * with `server: stun` (coturn does, when it listens on two addresses). Unlike one reflector
 * address, the server's second address (OTHER-ADDRESS) tells address dependence too:
 *
 * - filtering (RFC 5780 §4.4), on a socket that has talked to nothing else: a Binding request to
 *   the primary address asking the answer to come from the other address and port (CHANGE-REQUEST
 *   IP+port): it gets in → endpoint-independent; else asking for the other port only: it gets in →
 *   address-dependent; else address-and-port-dependent;
 * - mapping (§4.3), on a second socket: the mapped address towards the primary, then towards the
 *   other address on the primary port, then on the other port: the same → endpoint-independent;
 *   changing only with the address → address-dependent; with the port too → address-and-port-
 *   dependent.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { ProbeOutcome } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { classify, errorCode } from '../net/classify.js';
import { ATTR_MAPPED_ADDRESS, ATTR_XOR_MAPPED_ADDRESS, BINDING_REQUEST, BINDING_SUCCESS, STUN_MAGIC_COOKIE } from './stun.js';
import type { NatData, NatFiltering as Filtering, NatMapping as Mapping } from '../types.js';
import { because } from '../reasons.js';

// RFC 5780 attributes the plain stun kind does not use.
const ATTR_CHANGE_REQUEST = 0x0003;
const ATTR_CHANGED_ADDRESS = 0x0005;
const ATTR_RESPONSE_ORIGIN = 0x802b;
const ATTR_OTHER_ADDRESS = 0x802c;

interface Endpoint {
  address: string;
  port: number;
}

interface Binding {
  mapped?: Endpoint;
  other?: Endpoint;
  origin?: Endpoint;
  from: RemoteInfo;
}

/** A Binding request, with CHANGE-REQUEST flags when asked (0x04 change IP, 0x02 change port). */
export function bindingRequest(tid: Buffer, change?: { ip: boolean; port: boolean }): Buffer {
  const attrs = change ? 8 : 0;
  const b = Buffer.alloc(20 + attrs);
  b.writeUInt16BE(BINDING_REQUEST, 0);
  b.writeUInt16BE(attrs, 2);
  b.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  tid.copy(b, 8);
  if (change) {
    b.writeUInt16BE(ATTR_CHANGE_REQUEST, 20);
    b.writeUInt16BE(4, 22);
    b.writeUInt32BE((change.ip ? 0x04 : 0) | (change.port ? 0x02 : 0), 24);
  }
  return b;
}

function address(v: Buffer, xor: boolean, tid: Buffer): Endpoint | undefined {
  if (v.length < 8) return undefined;
  const family = v[1];
  let port = v.readUInt16BE(2);
  if (xor) port ^= STUN_MAGIC_COOKIE >>> 16;
  const key = Buffer.concat([Buffer.alloc(4), tid]);
  key.writeUInt32BE(STUN_MAGIC_COOKIE, 0);
  if (family === 1) {
    const a = Buffer.from(v.subarray(4, 8));
    if (xor) for (let i = 0; i < 4; i++) a[i]! ^= key[i]!;
    return { address: [...a].join('.'), port };
  }
  if (family === 2 && v.length >= 20) {
    const a = Buffer.from(v.subarray(4, 20));
    if (xor) for (let i = 0; i < 16; i++) a[i]! ^= key[i]!;
    const parts: string[] = [];
    for (let i = 0; i < 16; i += 2) parts.push(a.readUInt16BE(i).toString(16));
    return { address: parts.join(':').replace(/\b(?:0+:){2,}/, ':'), port };
  }
  return undefined;
}

/** Parse a Binding success for `tid` (anything else: undefined). */
export function parseBinding(msg: Buffer, tid: Buffer, from: RemoteInfo): Binding | undefined {
  if (msg.length < 20 || msg.readUInt16BE(0) !== BINDING_SUCCESS || msg.readUInt32BE(4) !== STUN_MAGIC_COOKIE || !msg.subarray(8, 20).equals(tid)) return undefined;
  const end = Math.min(msg.length, 20 + msg.readUInt16BE(2));
  const out: Binding = { from };
  for (let off = 20; off + 4 <= end; ) {
    const type = msg.readUInt16BE(off);
    const len = msg.readUInt16BE(off + 2);
    const v = msg.subarray(off + 4, off + 4 + len);
    if (type === ATTR_XOR_MAPPED_ADDRESS) out.mapped = address(v, true, tid) ?? out.mapped;
    else if (type === ATTR_MAPPED_ADDRESS && !out.mapped) out.mapped = address(v, false, tid);
    else if (type === ATTR_OTHER_ADDRESS || (type === ATTR_CHANGED_ADDRESS && !out.other)) out.other = address(v, false, tid);
    else if (type === ATTR_RESPONSE_ORIGIN) out.origin = address(v, false, tid);
    off += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}

/** A socket and its Binding exchanges (each sent up to 3 times within `waitMs`). */
class StunSocket {
  private readonly pending = new Map<string, (b: Binding) => void>();
  error: string | undefined;
  constructor(readonly s: Socket) {
    s.on('message', (m, from) => {
      if (m.length < 20) return;
      const tid = m.subarray(8, 20);
      const done = this.pending.get(tid.toString('hex'));
      const b = done && parseBinding(m, tid, from);
      if (b) done(b);
    });
    s.on('error', (err) => void (this.error = errorCode(err) ?? 'EIO'));
  }
  async binding(to: Endpoint, waitMs: number, signal: AbortSignal, change?: { ip: boolean; port: boolean }): Promise<Binding | undefined> {
    const tid = randomBytes(12);
    const req = bindingRequest(tid, change);
    return new Promise((resolve) => {
      const timers: NodeJS.Timeout[] = [];
      const finish = (b: Binding | undefined): void => {
        for (const t of timers) clearTimeout(t);
        this.pending.delete(tid.toString('hex'));
        signal.removeEventListener('abort', onAbort);
        resolve(b);
      };
      const onAbort = (): void => finish(undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(tid.toString('hex'), finish);
      for (let i = 0; i < 3; i++) timers.push(setTimeout(() => this.s.send(req, to.port, to.address), (i * waitMs) / 3));
      timers.push(setTimeout(() => finish(undefined), waitMs));
    });
  }
}

async function open(family: 4 | 6): Promise<StunSocket> {
  const s = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  await new Promise<void>((r) => s.bind(0, r));
  return new StunSocket(s);
}

const same = (a?: Endpoint, b?: Endpoint): boolean => !!a && !!b && a.address === b.address && a.port === b.port;
const fmt = (e?: Endpoint): string => (e ? (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`) : '?');

/** The RFC 5780 discovery against `server`. */
export async function stunNat(server: Endpoint, waitMs: number, signal: AbortSignal): Promise<ProbeOutcome> {
  const family = isIP(server.address) === 6 ? 6 : 4;
  const f = await open(family);
  const m = await open(family);
  try {
    const notes: string[] = [];
    // Filtering first, on a socket that has talked to nothing but the primary address.
    const t1 = await f.binding(server, waitMs, signal);
    if (!t1?.mapped) {
      if (f.error) return { ...classify(f.error, 'udp'), address: server.address };
      return { ...because('UDP_SILENCE'), detail: `no STUN answer from ${fmt(server)} within ${formatDuration(waitMs)}: blocked, or no STUN server listens there`, address: server.address };
    }
    const other = t1.other;
    if (!other || other.address === server.address) {
      return { ...because('STUN_NO_RFC5780'), detail: `${fmt(server)} answers STUN but gives no OTHER-ADDRESS on a second address: it does not support RFC 5780 NAT discovery (coturn does with two --listening-ip)`, address: server.address };
    }
    const local = f.s.address();
    const own = t1.mapped.port === local.port && Object.values(networkInterfaces()).some((l) => (l ?? []).some((i) => i.address === t1.mapped!.address));
    let filtering: Filtering;
    // An answer counts only from where it was asked to come from (a server ignoring CHANGE-REQUEST proves nothing).
    const from = (b: Binding | undefined, e: Endpoint): boolean => !!b && b.from.address.replace(/^::ffff:/, '') === e.address && b.from.port === e.port;
    if (from(await f.binding(server, waitMs, signal, { ip: true, port: true }), other)) filtering = 'endpoint-independent';
    else if (from(await f.binding(server, waitMs, signal, { ip: false, port: true }), { address: server.address, port: other.port })) filtering = 'address-dependent';
    else filtering = 'address-and-port-dependent';
    // Mapping, on the second socket.
    const m1 = await m.binding(server, waitMs, signal);
    const m2 = await m.binding({ address: other.address, port: server.port }, waitMs, signal);
    let mapping: Mapping;
    const seen = [{ to: fmt(server), seen: fmt(m1?.mapped) }, { to: fmt({ address: other.address, port: server.port }), seen: fmt(m2?.mapped) }];
    if (own) {
      mapping = 'none';
      filtering = 'none';
      notes.push(`the server saw this host's own address (${fmt(t1.mapped)}): no NAT between here and there`);
    } else if (!m1?.mapped || !m2?.mapped) {
      mapping = 'unknown';
      notes.push(`no answer from ${m1?.mapped ? seen[1]!.to : seen[0]!.to}: the mapping could not be compared`);
    } else if (same(m1.mapped, m2.mapped)) mapping = 'endpoint-independent';
    else {
      const m3 = await m.binding(other, waitMs, signal);
      seen.push({ to: fmt(other), seen: fmt(m3?.mapped) });
      mapping = !m3?.mapped ? 'unknown' : same(m2.mapped, m3.mapped) ? 'address-dependent' : 'address-and-port-dependent';
    }
    if (!own) notes.push(`filtering: ${filtering} (RFC 5780 §4.4, answers asked from the server's other address and port)`);
    if (mapping === 'endpoint-independent') notes.push(`one socket kept one public address:port (${fmt(m1!.mapped)}) towards both server addresses: endpoint-independent mapping; peer-to-peer media can work`);
    else if (mapping === 'address-dependent' || mapping === 'address-and-port-dependent') {
      notes.push(`one socket appeared as ${seen.map((x) => `${x.seen} towards ${x.to}`).join(', ')}: ${mapping} mapping; peer-to-peer media needs a relay (TURN)`);
    }
    const data: NatData = {
      method: 'stun-rfc5780',
      ports: [server.port, other.port],
      otherAddress: fmt(other),
      seen: seen.map((x) => ({ to: x.to, seen: x.seen })),
      local: `${local.address}:${local.port}`,
      mapping,
      filtering,
      needsRelay: mapping === 'unknown' ? null : mapping === 'address-dependent' || mapping === 'address-and-port-dependent',
      notes,
    };
    return {
      ...because(mapping === 'none' ? 'NAT_NONE' : mapping === 'endpoint-independent' ? 'NAT_ENDPOINT_INDEPENDENT' : mapping === 'unknown' ? 'NAT_UNKNOWN' : 'NAT_SYMMETRIC'),
      detail: notes.join('; '),
      address: server.address,
      data: data as unknown as Record<string, unknown>,
    };
  } finally {
    for (const s of [f, m]) {
      try {
        s.s.close();
      } catch {
        /* closed */
      }
    }
  }
}
