/**
 * The reflector's answers to NCR1 control messages (./protocol.ts, docs/reflector.md), whatever
 * transport they came on. No reply is larger than the request it answers, and every send after a
 * gap is on a flow armed with a token issued to that very source.
 */
import { nowMs } from '../util/deadline.js';
import type { FlowTable } from './flows.js';
import type { MediaSessions } from './media.js';
import type { Flow, Peer, ReflectorStats } from './peer.js';
import { armMac, encode, issueToken, mediaMac, parse, safeEqual, validFlowId, validSessionId, verifyToken, type Message, type ReflectorErrorCode } from './protocol.js';

/** What control needs to know of the reflector's settings. */
export interface ControlSettings {
  tokenKey: Uint8Array;
  secret?: string;
  maxFlows: number;
  maxFlowsPerSource: number;
  maxGapMs: number;
  tokenMaxAgeMs: number;
}

/** A copy of a string that does not keep the message it was sliced from alive. */
function own(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

/** Control messages of every transport: HELLO, ARM, BACK, and the datagram-only MEDIA, MSTAT, NATF. */
export class Control {
  constructor(
    private readonly o: ControlSettings,
    private readonly flows: FlowTable,
    private readonly media: MediaSessions,
    private readonly stats: ReflectorStats,
    private readonly log: (line: string) => void,
  ) {}

  /** Send `reply` only if it is no larger than the request it answers. */
  answer(peer: Peer, reply: Buffer, requestBytes: number): boolean {
    if (reply.length > requestBytes) {
      this.stats.suppressed++;
      return false;
    }
    peer.send(reply);
    return true;
  }

  refuse(peer: Peer, code: ReflectorErrorCode, requestBytes: number): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
    this.log(`refused ${code} from ${peer.seen} (${peer.transport})`);
    this.answer(peer, encode('ERR', { code }, 0, peer.newline), requestBytes);
  }

  /** One control message from `peer`. */
  handle(peer: Peer, buf: Buffer): void {
    const size = buf.length;
    const m = parse(buf);
    if ('error' in m) return this.refuse(peer, 'syntax', size);
    const f = m.fields;
    switch (m.verb) {
      case 'HELLO': {
        const t = issueToken(this.o.tokenKey, peer.transport, peer.seen, Date.now());
        this.answer(peer, encode('TOKEN', { t, seen: peer.seen }, 0, peer.newline), size);
        return;
      }
      case 'ARM':
        return this.arm(peer, m, size);
      case 'MEDIA':
      case 'MSTAT':
      case 'NATF':
        // Datagram-only exchanges: a media stream and a NAT filtering test only mean something on UDP.
        if (peer.transport !== 'udp') return this.refuse(peer, 'verb', size);
        return m.verb === 'MEDIA' ? this.openMedia(peer, m, size) : m.verb === 'MSTAT' ? this.mediaStats(peer, m, size) : this.natFilter(peer, m, size);
      case 'BACK': {
        const flow = f.t && f.id ? this.flows.get(`${f.t}|${f.id}`) : undefined;
        if (!flow) return this.refuse(peer, 'flow', size);
        this.answer(peer, encode('BACKOK', { id: flow.id, seen: peer.seen, was: flow.peer.seen }, 0, peer.newline), size);
        return;
      }
      default:
        return this.refuse(peer, 'verb', size);
    }
  }

  private tokenOk(peer: Peer, t: string | undefined): boolean {
    return verifyToken(this.o.tokenKey, t, peer.transport, peer.seen, Date.now(), this.o.tokenMaxAgeMs);
  }

  private arm(peer: Peer, m: Message, size: number): void {
    const { t, id, gap, mac } = m.fields;
    const { o, flows } = this;
    if (!this.tokenOk(peer, t)) return this.refuse(peer, 'token', size);
    if (!validFlowId(id)) return this.refuse(peer, 'syntax', size);
    const gapMs = gap !== undefined && /^\d{1,10}$/.test(gap) ? Number(gap) : NaN;
    if (!(gapMs >= 0 && gapMs <= o.maxGapMs)) return this.refuse(peer, 'gap', size);
    if (o.secret !== undefined && !(mac && safeEqual(mac, armMac(o.secret, t!, id, gapMs)))) return this.refuse(peer, 'auth', size);
    const key = `${t}|${id}`;
    if (flows.has(key)) return this.refuse(peer, 'dup', size);
    if (flows.size >= o.maxFlows || flows.countFor(peer.ip) >= o.maxFlowsPerSource) return this.refuse(peer, 'flows', size);
    // The gap is measured against an absolute deadline from the ARM's arrival (util/deadline.ts).
    const flow: Flow = { key: own(key), id: own(id), ip: peer.ip, peer, budget: size, woke: false, due: nowMs() + gapMs };
    const armed = encode('ARMED', { id, seen: peer.seen }, 0, peer.newline);
    if (!this.answer(peer, armed, flow.budget)) return;
    flow.budget -= armed.length;
    flows.add(flow);
  }

  /** MEDIA t id pps dur size [mac]: open a media session bound to this source address:port. */
  private openMedia(peer: Peer, m: Message, size: number): void {
    const { t, id, mac } = m.fields;
    if (!this.tokenOk(peer, t)) return this.refuse(peer, 'token', size);
    if (!validSessionId(id)) return this.refuse(peer, 'syntax', size);
    const num = (v: string | undefined): number => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : NaN);
    const pps = num(m.fields.pps);
    const dur = num(m.fields.dur);
    const bytes = num(m.fields.size);
    if (this.media.problem(pps, bytes, dur)) return this.refuse(peer, 'media', size);
    if (this.o.secret !== undefined && !(mac && safeEqual(mac, mediaMac(this.o.secret, t!, id, pps, dur, bytes)))) return this.refuse(peer, 'auth', size);
    // A request too small for its answer opens nothing: the client could not learn it worked.
    const ok = encode('MEDIAOK', { id, seen: peer.seen }, 0, peer.newline);
    if (ok.length > size) {
      this.stats.suppressed++;
      return;
    }
    const r = this.media.open(peer.ip, peer.seen, id, pps, bytes, dur);
    if (r !== 'ok' && r !== 'again') return this.refuse(peer, r, size);
    if (r === 'ok') this.stats.mediaSessions++;
    this.answer(peer, ok, size);
  }

  /** MSTAT t id: what this session's datagrams looked like on arrival. */
  private mediaStats(peer: Peer, m: Message, size: number): void {
    const { t, id } = m.fields;
    if (!this.tokenOk(peer, t)) return this.refuse(peer, 'token', size);
    const c = validSessionId(id) ? this.media.counters(peer.seen, id) : undefined;
    if (!c) return this.refuse(peer, 'media', size);
    this.answer(peer, encode('MSTATS', { id: id!, ...c, seen: peer.seen }, 0, peer.newline), size);
  }

  /**
   * NATF t via: answer from another UDP port of this reflector, to the very source that asked
   * (its token proves it receives there). Whether the answer arrives tells the NAT's filtering.
   */
  private natFilter(peer: Peer, m: Message, size: number): void {
    const { t, via } = m.fields;
    if (!this.tokenOk(peer, t)) return this.refuse(peer, 'token', size);
    const port = via !== undefined && /^\d{1,5}$/.test(via) ? Number(via) : NaN;
    const reply = encode('NATFOK', { via: port, to: peer.localPort ?? 0, seen: peer.seen }, 0, peer.newline);
    if (reply.length > size) {
      this.stats.suppressed++;
      return;
    }
    if (!peer.sendFrom?.(port, reply)) return this.refuse(peer, 'port', size);
  }
}
