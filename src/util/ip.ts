import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

/** A parsed CIDR block. Addresses are BigInt so IPv4 and IPv6 share one code path. */
export interface Cidr {
  family: 4 | 6;
  base: bigint;
  prefix: number;
  /** Number of addresses in the block. */
  size: bigint;
  text: string;
}

export function ipToBigInt(addr: string): { family: 4 | 6; value: bigint } {
  const parsed = ipaddr.parse(addr);
  const bytes = parsed.toByteArray();
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return { family: parsed.kind() === 'ipv4' ? 4 : 6, value: v };
}

export function bigIntToIp(value: bigint, family: 4 | 6): string {
  if (family === 4) return v4ToString(Number(value));
  const len = 16;
  const bytes: number[] = new Array(len);
  let v = value;
  for (let i = len - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Parse `a.b.c.d/n`, `x::/n`, or a bare address (a /32 or /128). Host bits must be zero. */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const fam = isIP(addr);
  if (fam === 0) throw new Error(`'${text}' is not an IP address or CIDR range`);
  const family = fam as 4 | 6;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) {
      throw new Error(`'${text}': prefix length must be 0-${bits} for IPv${family}`);
    }
    prefix = Number(p);
  }
  const { value } = ipToBigInt(addr);
  const hostBits = BigInt(bits - prefix);
  const mask = (1n << hostBits) - 1n;
  if ((value & mask) !== 0n) {
    const base = bigIntToIp(value & ~mask, family);
    throw new Error(`'${text}' has host bits set; did you mean ${base}/${prefix}?`);
  }
  return { family, base: value, prefix, size: 1n << hostBits, text: slash < 0 ? addr : `${addr}/${prefix}` };
}

export function cidrContains(c: Cidr, addr: string): boolean {
  if (isIP(addr) === 0) return false;
  const { family, value } = ipToBigInt(addr);
  return family === c.family && value >= c.base && value < c.base + c.size;
}

/** Usable host range: IPv4 blocks larger than /31 exclude the network and broadcast addresses. */
function usable(c: Cidr): { first: bigint; count: bigint } {
  if (c.family === 4 && c.prefix < 31) return { first: c.base + 1n, count: c.size - 2n };
  if (c.family === 6 && c.prefix < 127) return { first: c.base + 1n, count: c.size - 1n };
  return { first: c.base, count: c.size };
}

/**
 * Pick `n` addresses from a range. `spread`: evenly spaced across the usable range, first and last
 * included, deterministic. `random`: a seeded pseudo-random choice (reproducible with the seed).
 */
export function sampleCidr(c: Cidr, n: number, strategy: 'spread' | 'random' = 'spread', seed = 1): string[] {
  const { first, count } = usable(c);
  if (count <= BigInt(n)) return expandCidr(c, Number(count));
  const out = new Set<string>();
  if (strategy === 'spread') {
    if (n === 1) return [bigIntToIp(first, c.family)];
    // Multiply before dividing so the last sample is exactly the last usable address.
    for (let i = 0; i < n; i++) out.add(bigIntToIp(first + ((count - 1n) * BigInt(i)) / BigInt(n - 1), c.family));
  } else {
    let s = BigInt(seed >>> 0) | 1n;
    while (out.size < n) {
      // xorshift64*: reproducible, no crypto needed for sampling.
      s ^= s << 13n; s &= (1n << 64n) - 1n;
      s ^= s >> 7n;
      s ^= s << 17n; s &= (1n << 64n) - 1n;
      out.add(bigIntToIp(first + (s % count), c.family));
    }
  }
  return [...out];
}

/** Dotted quad of a 32-bit address, without a parser object per address. */
function v4ToString(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Every usable address of a range, refusing more than `cap`. */
export function expandCidr(c: Cidr, cap: number): string[] {
  const { first, count } = usable(c);
  if (count > BigInt(cap)) {
    throw new Error(`${c.text} holds ${count} addresses, more than the cap of ${cap}`);
  }
  const n = Number(count);
  const out: string[] = [];
  if (c.family === 4) {
    // Plain numbers for IPv4: a BigInt and an ipaddr.js object per address were most of planning a /16 sweep.
    const f = Number(first);
    for (let i = 0; i < n; i++) out.push(v4ToString(f + i));
    return out;
  }
  for (let i = 0; i < n; i++) out.push(bigIntToIp(first + BigInt(i), c.family));
  return out;
}

/** A port list like `80`, `80,443`, `4201-4264`, `80,443,8000-8010`. */
export function parsePorts(text: string | number): number[] {
  const out: number[] = [];
  for (const part of String(text).split(',')) {
    const p = part.trim();
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) throw new Error(`'${p}' is not a port or port range (e.g. 443 or 4201-4264)`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (const v of [lo, hi]) {
      if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`port ${v} is out of range 1-65535`);
    }
    if (hi < lo) throw new Error(`port range ${p} runs backwards`);
    for (let v = lo; v <= hi; v++) out.push(v);
  }
  return out;
}

/** Compress sorted ports back into `80,443,4201-4264` form for humans. */
export function formatPorts(ports: number[]): string {
  const s = [...new Set(ports)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j > i ? `${s[i]}-${s[j]}` : `${s[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** `host:port` with IPv6 literals bracketed. */
export function hostPort(host: string, port?: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

/** Is this IP literal a loopback address (127.0.0.0/8, ::1, or IPv4-mapped 127.x)? False for names and garbage. */
export function isLoopbackAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let a = ipaddr.parse(address);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return a.range() === 'loopback';
}

/** Is this host (a name, an address, `[v6]`, a trailing dot) this machine's loopback? `localhost` and `*.localhost` are (RFC 6761). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || isLoopbackAddress(h);
}

/** The SNI name to send for a host: the name itself; none for an IP literal (RFC 6066 allows names only). */
export function sniName(host: string): string | undefined {
  return isIP(host) === 0 ? host : undefined;
}
