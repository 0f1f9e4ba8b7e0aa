/**
 * `--redact`: a pure Report → Report transform applied before any renderer, so every format
 * (text, JSON, Markdown, HTML, JUnit, metrics) shows the same masked values and none can leak.
 *
 * Masked: internal addresses (RFC 1918, CGNAT, ULA, link-local, loopback, including IPv4-mapped
 * forms), this host's own interface addresses and gateways whatever their range, this host's name, its resolver search domains, host names in proxy settings, and names
 * under internal-only suffixes (.local, .lan, .internal, .corp, .home.arpa, …), plus any credentials
 * written into a URL. Kept: the vendor's public addresses and names, which are what a ticket is
 * about. Each distinct value gets a stable token (`internal-ipv4-1`), so the report stays readable
 * ("the same gateway failed twice") without saying which one.
 */
import ipaddr from 'ipaddr.js';
import type { Report } from '../types.js';

/** ipaddr.js range names that are internal to a site or a host. */
const INTERNAL_RANGES = new Set(['private', 'loopback', 'linkLocal', 'uniqueLocal', 'carrierGradeNat']);

/** Suffixes that only mean something inside one organisation. */
export const INTERNAL_SUFFIXES = ['local', 'lan', 'internal', 'intranet', 'corp', 'home', 'home.arpa', 'localdomain', 'localhost', 'private'];

/** Is this address internal (never meaningful, and possibly revealing, outside the site)? */
export function isInternalAddress(text: string): boolean {
  const addr = text.replace(/%.*$/, '');
  if (!ipaddr.isValid(addr)) return false;
  let a = ipaddr.parse(addr);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  return INTERNAL_RANGES.has(a.range());
}

// IPv4 dotted quads not glued to other digits/dots; IPv6 candidates are validated by ipaddr.js,
// so timestamps like 17:30:46 (not a valid IPv6 address) are left alone.
const IPV4_RE = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)/g;
const IPV6_RE = /(?<![\w:.])(?:[0-9a-fA-F]{0,4}:){2,7}(?:[0-9a-fA-F]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[\w.-]+)?(?![\w:])/g;
const URL_CRED_RE = /\b([a-z][a-z0-9+.-]*:\/\/)([^@/\s:]+)(?::([^@/\s]*))?@/gi;

export interface RedactOptions {
  /** Extra host names or domains to mask (the host's own name, search domains, …). */
  names?: string[];
}

/** Masks values consistently within one report. */
class Masker {
  private readonly tokens = new Map<string, string>();
  private readonly counters = { ipv4: 0, ipv6: 0, host: 0 };
  private readonly names: string[];
  private readonly nameRe: RegExp | undefined;
  private readonly suffixRe: RegExp;

  constructor(
    names: string[],
    /** Addresses masked whatever their range: this host's own interface addresses and gateways. */
    private readonly local: Set<string> = new Set(),
  ) {
    // Longest first, so `db.corp.example` is masked before `corp.example`.
    this.names = [...new Set(names.map((n) => n.toLowerCase().replace(/\.$/, '')).filter((n) => n.length > 1))].sort((a, b) => b.length - a.length);
    this.nameRe = this.names.length
      ? new RegExp(`(?<![\\w-])((?:[\\w-]+\\.)*(?:${this.names.map(escapeRe).join('|')}))(?![\\w-])`, 'gi')
      : undefined;
    this.suffixRe = new RegExp(`(?<![\\w.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\\.)+(?:${INTERNAL_SUFFIXES.map(escapeRe).join('|')}))(?![\\w-]|\\.[a-z0-9])`, 'gi');
  }

  private token(kind: 'ipv4' | 'ipv6' | 'host', value: string): string {
    const key = `${kind}:${value.toLowerCase()}`;
    let t = this.tokens.get(key);
    if (!t) {
      t = kind === 'host' ? `redacted-host-${++this.counters.host}` : `internal-${kind}-${++this.counters[kind]}`;
      this.tokens.set(key, t);
    }
    return t;
  }

  /**
   * Masked strings by input. The same input always masks to the same output (tokens are stable),
   * and a sweep repeats most strings (statuses, reasons, details, timestamps) tens of thousands of
   * times: five regular expressions per string made redacting a 65,534-probe report take seconds.
   */
  private readonly memo = new Map<string, string>();

  string(s: string): string {
    let out = this.memo.get(s);
    if (out === undefined) {
      out = this.mask(s);
      this.memo.set(s, out);
    }
    return out;
  }

  private mask(s: string): string {
    let out = s.replace(URL_CRED_RE, (_m, scheme: string, _user: string, pw: string | undefined) => `${scheme}${pw !== undefined ? '***:***' : '***'}@`);
    out = out.replace(IPV6_RE, (m) => (m.includes('::') || m.split(':').length > 2) && this.masked(m) ? this.token('ipv6', m.replace(/%.*$/, '')) : m);
    out = out.replace(IPV4_RE, (m) => (this.masked(m) ? this.token('ipv4', m) : m));
    if (this.nameRe) out = out.replace(this.nameRe, (m) => this.token('host', m));
    out = out.replace(this.suffixRe, (m) => this.token('host', m));
    return out;
  }

  private masked(addr: string): boolean {
    return isInternalAddress(addr) || this.local.has(normalise(addr));
  }

  value(v: unknown): unknown {
    if (typeof v === 'string') return this.string(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.string(k)] = this.value(x);
      return out;
    }
    return v;
  }
}

function normalise(addr: string): string {
  const a = addr.replace(/%.*$/, '');
  return ipaddr.isValid(a) ? ipaddr.parse(a).toNormalizedString() : a.toLowerCase();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Host names found in proxy settings (`http://proxy.corp:3128`, NO_PROXY lists). */
function proxyHosts(values: string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const part of v.split(/[,\s]+/)) {
      const host = part.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^[^@/]*@/, '').replace(/[:/].*$/, '').replace(/^\*?\./, '');
      if (host && !ipaddr.isValid(host) && /[a-z]/i.test(host) && host !== 'localhost') out.push(host);
    }
  }
  return out;
}

/**
 * The redacted copy of a report. Pure: the input is not modified; the same report always gives
 * the same output.
 */
export function redactReport(report: Report, opts: RedactOptions = {}): Report {
  const env = report.environment;
  const names = [
    ...(opts.names ?? []),
    ...(env ? [env.os.hostname, ...(env.dns.search ?? []), ...proxyHosts(env.proxy.map((p) => p.value))] : []),
  ].filter((n) => n && n !== 'localhost');
  // This host's own addresses identify it even when they are public; the egress address is kept
  // (it is what a vendor needs to allow-list).
  const local = new Set(
    env
      ? [...env.interfaces.flatMap((i) => i.addresses.map((a) => a.address)), ...env.defaultRoutes.map((r) => r.gateway).filter((g): g is string => !!g)]
          .filter((a) => a !== env.egress?.address && ipaddr.isValid(a.replace(/%.*$/, '')))
          .map(normalise)
      : [],
  );
  const m = new Masker(names, local);
  const out = m.value(report) as Report;
  // The hostname field itself is masked even when it is a single label that matched nothing else.
  if (out.environment && env) out.environment.os.hostname = env.os.hostname ? m.string(env.os.hostname) : env.os.hostname;
  return out;
}
