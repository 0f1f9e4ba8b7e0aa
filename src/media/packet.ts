/**
 * The media datagram of `netcheck media` (issue 17), shared by the client and the reflector. Binary,
 * fixed header, padded to the size being tested (default 172 bytes: G.711 at 20 ms, 160 bytes of
 * audio plus a 12-byte RTP header):
 *
 * ```
 * offset size
 *  0      4   "NCM1"
 *  4      8   session id (random, chosen by the client; hex in the MEDIA control message)
 * 12      4   sequence number (uint32, from 0)
 * 16      8   client send time (float64, ms on the client's monotonic clock)
 * 24      8   reflector time (float64, ms on the reflector's clock; written by the reflector as it echoes)
 * 32      4   packets of this session the reflector had received when it echoed this one (uint32)
 * 36      …   padding
 * ```
 * The reflector overwrites only bytes 24-35 of a packet it echoes, so an echo is exactly as long as
 * what it answers. Clock offsets cancel in RFC 3550 jitter (differences of transit times), so the
 * two clocks never need to agree.
 */

export const MEDIA_MAGIC = Buffer.from('NCM1', 'latin1');
export const MEDIA_HEADER_BYTES = 36;
/** Smallest and largest datagram accepted (the largest fits a 1500-byte path with room for tunnels). */
export const MEDIA_MIN_BYTES = 40;
export const MEDIA_MAX_BYTES = 1400;

/** Is this datagram a media packet (as opposed to a control message or plain echo)? */
export function isMediaPacket(b: Uint8Array): boolean {
  return b.length >= MEDIA_MIN_BYTES && b[0] === 0x4e && b[1] === 0x43 && b[2] === 0x4d && b[3] === 0x31;
}

/** A packet of `size` bytes. */
export function encodeMediaPacket(sid: Buffer, seq: number, sentMs: number, size: number): Buffer {
  const b = Buffer.alloc(size, 0x55);
  MEDIA_MAGIC.copy(b, 0);
  sid.copy(b, 4, 0, 8);
  b.writeUInt32BE(seq >>> 0, 12);
  b.writeDoubleBE(sentMs, 16);
  b.writeDoubleBE(0, 24);
  b.writeUInt32BE(0, 32);
  return b;
}

export interface MediaFields {
  sid: string;
  seq: number;
  sentMs: number;
  reflectorMs: number;
  reflectorRx: number;
}

/** Read a packet's header (call only when {@link isMediaPacket} holds). */
export function decodeMediaPacket(b: Buffer): MediaFields {
  return {
    sid: b.toString('hex', 4, 12),
    seq: b.readUInt32BE(12),
    sentMs: b.readDoubleBE(16),
    reflectorMs: b.readDoubleBE(24),
    reflectorRx: b.readUInt32BE(32),
  };
}

/** The reflector's stamp on a packet it echoes (in place; same length). */
export function stampEcho(b: Buffer, reflectorMs: number, rx: number): void {
  b.writeDoubleBE(reflectorMs, 24);
  b.writeUInt32BE(rx >>> 0, 32);
}

/**
 * RFC 3550 §6.4.1 interarrival jitter: J += (|D(i-1,i)| - J) / 16, where D is the change in
 * transit time (arrival minus send timestamp) between consecutive packets in arrival order.
 */
export class Rfc3550Jitter {
  private last: number | undefined;
  jitter = 0;
  /** Feed one packet in arrival order (both times in ms, each on its own clock). */
  add(sentMs: number, arrivedMs: number): void {
    const transit = arrivedMs - sentMs;
    if (this.last !== undefined) this.jitter += (Math.abs(transit - this.last) - this.jitter) / 16;
    this.last = transit;
  }
}
