/**
 * stun: an RFC 5389 Binding request over UDP. The answer's XOR-MAPPED-ADDRESS (or the classic
 * MAPPED-ADDRESS of RFC 3489 servers) is this network's public egress address and port as the
 * server saw them: what an agent sends a client to whitelist. Retransmits as RFC 5389 §7.2.1 does
 * (RTO 500 ms, doubling) within the probe's deadline. The socket is connected, so an ICMP port
 * unreachable shows as `refused` rather than silence.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { StunOptions } from '../kinds/stun.js';
import type { IpList, Prober, ProbeOutcome, ResolvedList } from '../types.js';
import { bigIntToIp, cidrContains, parseCidr } from '../util/ip.js';
import { classify, errorCode } from '../net/classify.js';
import { ms, resolveTarget } from '../net/target.js';
import { because } from '../reasons.js';

/** RFC 5389 §6: the fixed magic cookie in every message. */
export const STUN_MAGIC_COOKIE = 0x2112a442;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;
export const ATTR_MAPPED_ADDRESS = 0x0001;
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const ATTR_ERROR_CODE = 0x0009;
const ATTR_SOFTWARE = 0x8022;
/** RFC 5389 §7.2.1 initial retransmission timeout. */
const RTO_MS = 500;

/** A Binding request with the given 12-byte transaction id. */
export function stunBindingRequest(transactionId: Buffer): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(BINDING_REQUEST, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
  transactionId.copy(b, 8);
  return b;
}

export interface StunAnswer {
  type: 'success' | 'error';
  mapped?: { address: string; port: number; family: 4 | 6; attribute: 'XOR-MAPPED-ADDRESS' | 'MAPPED-ADDRESS' };
  errorCode?: number;
  errorReason?: string;
  software?: string;
}

/** Parse a STUN response for our transaction; `undefined` when it is not one (ignored, like RFC 5389 says). */
export function parseStunResponse(msg: Buffer, transactionId: Buffer): StunAnswer | 'malformed' | undefined {
  if (msg.length < 20 || (msg[0]! & 0xc0) !== 0) return undefined;
  if (msg.readUInt32BE(4) !== STUN_MAGIC_COOKIE || !msg.subarray(8, 20).equals(transactionId)) return undefined;
  const type = msg.readUInt16BE(0);
  const len = msg.readUInt16BE(2);
  if (len + 20 > msg.length || len % 4 !== 0) return 'malformed';
  if (type !== BINDING_SUCCESS && type !== BINDING_ERROR) return undefined;
  const out: StunAnswer = { type: type === BINDING_SUCCESS ? 'success' : 'error' };
  let off = 20;
  while (off + 4 <= 20 + len) {
    const at = msg.readUInt16BE(off);
    const alen = msg.readUInt16BE(off + 2);
    const v = msg.subarray(off + 4, off + 4 + alen);
    if (v.length < alen) return 'malformed';
    if (at === ATTR_XOR_MAPPED_ADDRESS || at === ATTR_MAPPED_ADDRESS) {
      const xor = at === ATTR_XOR_MAPPED_ADDRESS;
      const fam = v[1] === 0x01 ? 4 : v[1] === 0x02 ? 6 : 0;
      if (fam === 0 || v.length < (fam === 4 ? 8 : 20)) return 'malformed';
      let port = v.readUInt16BE(2);
      if (xor) port ^= STUN_MAGIC_COOKIE >>> 16;
      const raw = Buffer.from(v.subarray(4, fam === 4 ? 8 : 20));
      if (xor) {
        // IPv4: XOR with the cookie; IPv6: with cookie + transaction id (RFC 5389 §15.2).
        const key = Buffer.concat([msg.subarray(4, 8), transactionId]);
        for (let i = 0; i < raw.length; i++) raw[i]! ^= key[i]!;
      }
      let n = 0n;
      for (const byte of raw) n = (n << 8n) | BigInt(byte);
      // XOR-MAPPED-ADDRESS wins over MAPPED-ADDRESS when a server sends both.
      if (xor || !out.mapped) out.mapped = { address: bigIntToIp(n, fam as 4 | 6), port, family: fam as 4 | 6, attribute: xor ? 'XOR-MAPPED-ADDRESS' : 'MAPPED-ADDRESS' };
    } else if (at === ATTR_ERROR_CODE && alen >= 4) {
      out.errorCode = (v[2]! & 0x07) * 100 + v[3]!;
      out.errorReason = v.subarray(4).toString('utf8');
    } else if (at === ATTR_SOFTWARE) {
      out.software = v.toString('utf8');
    }
    off += 4 + alen + ((4 - (alen % 4)) % 4);
  }
  return out;
}

/**
 * Is the discovered address in the lists given (`compareWith`, resolved by the plan)? Said in the
 * outcome, not judged: an address missing from the client's whitelist is what to send the client.
 */
function compareLists(address: string, lists: ResolvedList[] | undefined): { note: string; data: Record<string, unknown> } | undefined {
  if (!lists?.length) return undefined;
  const given = lists.filter((l): l is IpList => !('unset' in l));
  if (given.length === 0) return undefined;
  const inLists = given.flatMap((l) => l.entries.filter((e) => cidrContains(parseCidr(e.value), address)).map((e) => ({ param: l.param, file: l.file, line: e.line, value: e.value })));
  const names = given.map((l) => `--${l.param}`).join(', ');
  return inLists.length
    ? { note: `listed in ${inLists.map((h) => `--${h.param} (${h.file}:${h.line})`).join(', ')}`, data: { listedIn: inLists } }
    : { note: `not in ${names}: send ${address} to the client for whitelisting`, data: { listedIn: [], comparedWith: given.map((l) => l.param) } };
}

export const stun: Prober<StunOptions> = async (spec, ctx) => {
  const target = await resolveTarget(spec, ctx);
  if (!target.ok) return target.outcome;
  const { address, family } = target;
  const port = spec.port!;
  const tid = randomBytes(12);
  const request = stunBindingRequest(tid);
  const sock = createSocket(family === 6 ? 'udp6' : 'udp4');
  const timers: NodeJS.Timeout[] = [];
  const t0 = performance.now();
  const base = { address, ...(target.resolveMs !== undefined ? { phases: { resolveMs: ms(target.resolveMs) } } : {}) };
  try {
    return await new Promise<ProbeOutcome>((resolve) => {
      let sends = 0;
      let localPort: number | undefined;
      const done = (o: ProbeOutcome): void => resolve(o);
      const onAbort = (): void =>
        done({
          ...because('STUN_NO_REPLY'),
          detail: `no STUN answer from ${address}:${port} within ${spec.timeoutMs}ms (${sends} request(s)) and no ICMP error: UDP dropped on the way, or no STUN server there`,
          ...base,
          data: { sends },
        });
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      sock.on('error', (err) => {
        const o = classify(errorCode(err), 'udp');
        done({ ...o, ...base, data: { sends } });
      });
      sock.on('message', (msg) => {
        const a = parseStunResponse(msg, tid);
        if (a === undefined) return;
        const rttMs = ms(performance.now() - t0);
        const data: Record<string, unknown> = { sends, rttMs, server: `${address}:${port}`, ...(localPort ? { localPort } : {}) };
        if (a === 'malformed') return done({ ...because('STUN_BAD_RESPONSE'), detail: 'the STUN server answered with a malformed message', ...base, data });
        if (a.software) data.software = a.software;
        if (a.type === 'error') {
          return done({ ...because('STUN_ERROR_RESPONSE'), detail: `the STUN server answered with error ${a.errorCode ?? '?'} ${a.errorReason ?? ''}`.trim(), ...base, data: { ...data, errorCode: a.errorCode } });
        }
        if (!a.mapped) return done({ ...because('STUN_NO_MAPPED_ADDRESS'), detail: 'the STUN server answered without a mapped address', ...base, data });
        Object.assign(data, { mappedAddress: a.mapped.address, mappedPort: a.mapped.port, mappedFamily: a.mapped.family, attribute: a.mapped.attribute });
        const listed = compareLists(a.mapped.address, spec.options.compareWith);
        if (listed) Object.assign(data, listed.data);
        done({
          ...because('STUN_MAPPED'),
          detail: `this network's public address is ${a.mapped.address} (port ${a.mapped.port}) as ${spec.host} sees it${listed ? `; ${listed.note}` : ''}`,
          ...base,
          phases: { ...(base.phases ?? {}), firstByteMs: rttMs },
          data,
        });
      });
      sock.connect(port, address, () => {
        localPort = sock.address().port;
        const send = (): void => {
          if (ctx.signal.aborted) return;
          sends++;
          sock.send(request, (err) => {
            if (err) {
              const o = classify(errorCode(err), 'udp');
              done({ ...o, ...base, data: { sends } });
            }
          });
        };
        // RFC 5389 §7.2.1: RTO, then doubling (0, 500, 1500, 3500, … ms) until the deadline.
        send();
        let at = 0;
        for (let rto = RTO_MS, i = 0; i < 6; i++, rto *= 2) {
          at += rto;
          if (at >= spec.timeoutMs) break;
          timers.push(setTimeout(send, at));
        }
      });
    });
  } finally {
    for (const t of timers) clearTimeout(t);
    try {
      sock.close();
    } catch {
      /* already closed */
    }
  }
};
