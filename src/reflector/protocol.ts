/**
 * The reflector control protocol, NCR1 (documented in docs/reflector.md). Text messages, one per
 * UDP datagram, WebSocket text frame, or `\n`-terminated line on TCP:
 *
 * ```
 * NCR1 <VERB> key=value key=value … [pad=xxxx]
 * ```
 * A client asks for a token bound to its source address (HELLO → TOKEN), arms a flow with it
 * (ARM → ARMED), the reflector speaks first after the gap (WAKE), and the client answers (BACK →
 * BACKOK). Every reply reports the source address:port the reflector saw, so a NAT remapping
 * shows. The reflector never sends more bytes in answer to a message than the message had, so
 * clients pad their requests (`pad=`).
 *
 * Over UDP two more exchanges (issue 17): a media session (MEDIA → MEDIAOK; the client's paced
 * datagrams are echoed at the declared rate; MSTAT → MSTATS says what arrived), and a NAT
 * filtering test (NATF → NATFOK sent from another of the reflector's UDP ports).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const MAGIC = 'NCR1';
/** Longest control message accepted (bytes, including padding). */
export const MAX_MESSAGE_BYTES = 512;

/** Defaults and limits of the reflector and its clients, in one place. */
export const REFLECTOR_DEFAULTS = {
  /** Bind address unless told: a reflector is an attack surface, so it is opt-in to expose. */
  listen: '127.0.0.1',
  tcpPort: 7070,
  udpPort: 7070,
  wsPort: 7071,
  /** WebSocket path of the reflector endpoint. */
  wsPath: '/netcheck',
  /** Armed flows held at once, across all sources. */
  maxFlows: 10_000,
  /** Armed flows held at once for one source address. */
  maxFlowsPerSource: 64,
  /** Open TCP / WebSocket connections from one source address. */
  maxConnectionsPerSource: 256,
  /** Longest gap a client may ask for. */
  maxGapMs: 2 * 60 * 60 * 1000,
  /** Messages (control or echo) per second from one source address, and the burst allowed. */
  ratePerSecond: 20,
  rateBurst: 40,
  /** Echo bytes per second from one source address. */
  bytesPerSecond: 64 * 1024,
  /** A token is accepted this long after it was issued. */
  tokenMaxAgeMs: 120_000,
  /** A flow is forgotten this long after its WAKE (time for the client's BACK). */
  retainAfterWakeMs: 120_000,
  /** What clients pad requests to, so the reply (which carries an address) fits. */
  helloPadBytes: 160,
  armPadBytes: 400,
  backPadBytes: 200,
  /** Media sessions (`netcheck media`): highest packet rate, longest session, bytes/s per source. */
  mediaMaxPps: 1000,
  mediaMaxMs: 5 * 60 * 1000,
  mediaBytesPerSecondPerSource: 256 * 1024,
  mediaSessionsPerSource: 4,
  mediaMaxSessions: 256,
  /** How long a session's counters stay readable (MSTAT) after it ends. */
  mediaRetainMs: 60_000,
  /** What clients pad MEDIA, MSTAT and NATF to (MSTATS carries several counters and an address). */
  mediaPadBytes: 256,
} as const;

export type Verb = 'HELLO' | 'TOKEN' | 'ARM' | 'ARMED' | 'WAKE' | 'BACK' | 'BACKOK' | 'ERR' | 'MEDIA' | 'MEDIAOK' | 'MSTAT' | 'MSTATS' | 'NATF' | 'NATFOK';
const VERBS = new Set<Verb>(['HELLO', 'TOKEN', 'ARM', 'ARMED', 'WAKE', 'BACK', 'BACKOK', 'ERR', 'MEDIA', 'MEDIAOK', 'MSTAT', 'MSTATS', 'NATF', 'NATFOK']);

/** Stable error codes a reflector sends in `ERR code=…` (and tests assert on). */
export type ReflectorErrorCode =
  | 'syntax' // not an NCR1 message, or a malformed one
  | 'verb' // a verb a client may not send
  | 'token' // missing, forged, expired, or issued to another source
  | 'auth' // the reflector needs a shared-secret MAC and this one is missing or wrong
  | 'gap' // gap missing, not a number, or above the reflector's maximum
  | 'flows' // too many armed flows (globally or for this source)
  | 'flow' // BACK for a flow the reflector does not know
  | 'dup' // ARM for a flow id already armed (or MEDIA for a session already open with other parameters; the same MEDIA again is answered again)
  | 'media' // MEDIA asking for more than the reflector allows (rate, size, duration), or MSTAT for an unknown session
  | 'port'; // NATF naming a port the reflector does not serve

export interface Message {
  verb: Verb;
  fields: Record<string, string>;
}

const KEY_RE = /^[a-z]{1,8}$/;
const VALUE_RE = /^[A-Za-z0-9_.:\[\]\-]{0,400}$/;
const ID_RE = /^[A-Za-z0-9_-]{1,32}$/;

/** Is this buffer meant as a control message (as opposed to data to echo)? */
export function isControl(buf: Uint8Array): boolean {
  return buf.length >= 5 && buf[0] === 0x4e && buf[1] === 0x43 && buf[2] === 0x52 && buf[3] === 0x31 && buf[4] === 0x20;
}

/**
 * Encode a message, padded with `pad=x…` to at least `padTo` bytes. `newline` adds the TCP line
 * terminator (counted in the size).
 */
export function encode(verb: Verb, fields: Record<string, string | number>, padTo = 0, newline = false): Buffer {
  let text = `${MAGIC} ${verb}`;
  for (const [k, v] of Object.entries(fields)) text += ` ${k}=${v}`;
  const end = newline ? '\n' : '';
  const base = Buffer.byteLength(text) + Buffer.byteLength(end);
  if (padTo > base) {
    const room = padTo - base - ' pad='.length;
    if (room >= 0) text += ` pad=${'x'.repeat(room)}`;
  }
  return Buffer.from(text + end);
}

/** Parse a control message. Never throws: a malformed message is `{ error }`. */
export function parse(buf: Uint8Array): Message | { error: 'syntax' } {
  if (buf.length > MAX_MESSAGE_BYTES || !isControl(buf)) return { error: 'syntax' };
  // latin1 maps every byte to one char, so the printable-ASCII check below sees every byte.
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('latin1');
  if (/[^\x20-\x7e\r\n]/.test(text)) return { error: 'syntax' };
  const parts = text.replace(/\r?\n$/, '').split(' ');
  const verb = parts[1] as Verb;
  if (!VERBS.has(verb)) return { error: 'syntax' };
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const p of parts.slice(2)) {
    const eq = p.indexOf('=');
    if (eq <= 0) return { error: 'syntax' };
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    if (!KEY_RE.test(k) || !VALUE_RE.test(v) || k in fields) return { error: 'syntax' };
    fields[k] = v;
  }
  return { verb, fields };
}

/** A flow id a client may choose. */
export function validFlowId(id: string | undefined): id is string {
  return id !== undefined && ID_RE.test(id);
}

/** `addr:port`, with brackets for IPv6; IPv4-mapped IPv6 addresses shown as IPv4. */
export function formatSeen(address: string, port: number): string {
  const a = address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

function mac(key: Uint8Array | string, text: string, bytes: number): string {
  return createHmac('sha256', key).update(text).digest('base64url').slice(0, bytes);
}

/**
 * Issue a token bound to a transport and source address: proof that the client can receive at the
 * address it claims (a spoofed UDP source never sees its token), so the reflector's later sends go
 * only where someone asked for them.
 */
export function issueToken(key: Uint8Array, transport: string, seen: string, nowMs: number): string {
  const ts = Math.floor(nowMs / 1000).toString(36);
  return `${ts}.${mac(key, `${transport}|${seen}|${ts}`, 22)}`;
}

/** Check a token against the transport and source it was issued to, and its age. */
export function verifyToken(key: Uint8Array, token: string | undefined, transport: string, seen: string, nowMs: number, maxAgeMs: number): boolean {
  if (!token) return false;
  const dot = token.indexOf('.');
  if (dot <= 0) return false;
  const ts = token.slice(0, dot);
  if (!/^[0-9a-z]{1,10}$/.test(ts)) return false;
  const issuedMs = parseInt(ts, 36) * 1000;
  if (!(nowMs - issuedMs <= maxAgeMs && issuedMs - nowMs <= 5000)) return false;
  return safeEqual(token.slice(dot + 1), mac(key, `${transport}|${seen}|${ts}`, 22));
}

/** The MAC a client adds to ARM when the reflector has a shared secret. */
export function armMac(secret: string, token: string, id: string, gapMs: number): string {
  return mac(secret, `ARM|${token}|${id}|${gapMs}`, 32);
}

/** The MAC a client adds to MEDIA when the reflector has a shared secret (every parameter signed). */
export function mediaMac(secret: string, token: string, id: string, pps: number, durMs: number, size: number): string {
  return mac(secret, `MEDIA|${token}|${id}|${pps}|${durMs}|${size}`, 32);
}

/** A media session id: 16 hex digits (8 random bytes, also in every media datagram). */
export function validSessionId(id: string | undefined): id is string {
  return id !== undefined && /^[0-9a-f]{16}$/.test(id);
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A random key for tokens (per reflector process). */
export function newTokenKey(): Uint8Array {
  return randomBytes(32);
}
