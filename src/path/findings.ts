/**
 * Run-level findings about the network itself, read before any line (like TCP interception):
 *
 * - **Captive portal**: an HTTP request whose answer is known in advance (a URL of the user's
 *   choosing with its expected answer, e.g. a `generate_204` endpoint; or the netcheck reflector,
 *   whose TCP port echoes a request byte for byte) is answered by someone else, usually with a
 *   redirect to a login page.
 * - **DNS interception**: the resolver in use answers for names that cannot exist (random labels),
 *   as NXDOMAIN-rewriting resolvers and DNS filters do. Probes that reached the address it invents
 *   did not reach the vendor, so they are marked (`DNS_INTERCEPTED`) rather than passed.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, isIP } from 'node:net';
import type { Diagnosis, ProbeResult, ResolvedAddress } from '../types.js';
import { hostPort } from '../util/ip.js';
import type { ReflectorTarget } from './pmtu.js';

/** Known-answer URLs and what they answer when nothing is in the way. */
export const KNOWN_ANSWERS: Readonly<Record<string, { status: number; body?: string }>> = {
  'http://connectivitycheck.gstatic.com/generate_204': { status: 204 },
  'http://clients3.google.com/generate_204': { status: 204 },
  'http://www.gstatic.com/generate_204': { status: 204 },
  'http://captive.apple.com/hotspot-detect.html': { status: 200, body: 'Success' },
  'http://www.msftconnecttest.com/connecttest.txt': { status: 200, body: 'Microsoft Connect Test' },
  'http://detectportal.firefox.com/success.txt': { status: 200, body: 'success' },
  'http://nmcheck.gnome.org/check_network_status.txt': { status: 200, body: 'NetworkManager is online' },
};

/** What a known-answer URL must answer: a status, text the body must contain, or both. */
export interface Expectation {
  status?: number;
  body?: string;
}

/** `204`, `200:Success`, or `Success` (any 2xx whose body contains it). Undefined when malformed. */
export function parseExpectation(text: string): Expectation | undefined {
  const m = /^(\d{3})(?::(.+))?$/.exec(text);
  if (m) {
    const status = Number(m[1]);
    if (status < 100 || status > 599) return undefined;
    return { status, ...(m[2] ? { body: m[2] } : {}) };
  }
  return text ? { body: text } : undefined;
}

function describeExpectation(e: Expectation): string {
  return [e.status !== undefined ? `HTTP ${e.status}` : 'a 2xx answer', e.body !== undefined ? `containing "${e.body}"` : ''].filter(Boolean).join(' ');
}

export interface FindingOptions {
  /** A known-answer URL (`--portal-url`) and its answer (`--portal-expect`, or the built-in table). */
  portal?: { url: string; expect?: Expectation };
  /** The reflector: its TCP echo port is a known answer too. */
  reflector?: ReflectorTarget;
  /** Ask the resolver for names that cannot exist. */
  dnsCheck?: boolean;
  /** The run's resolver (so the check asks the same servers the probes used). */
  lookup: (host: string) => Promise<ResolvedAddress[]>;
  /** Which resolver, for the message (`--dns-server`, or the system's). */
  dnsServers?: string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What the DNS check saw, so probes can be re-read against it. */
export interface DnsInterception {
  /** Addresses the resolver gave for names that do not exist. */
  addresses: string[];
  names: string[];
}

export interface Findings {
  diagnoses: Diagnosis[];
  dns?: DnsInterception;
}

/** Run the enabled checks at once (they take one round trip each). */
export async function runLevelFindings(o: FindingOptions): Promise<Findings> {
  const [portal, echo, dns] = await Promise.all([
    o.portal ? portalByUrl(o.portal.url, o.portal.expect, o) : undefined,
    o.reflector?.tcpPort ? portalByReflector(o.reflector, o) : undefined,
    o.dnsCheck ? dnsInterception(o) : undefined,
  ]);
  const diagnoses: Diagnosis[] = [];
  for (const p of [portal, echo]) if (p) diagnoses.push(p);
  if (dns) {
    const via = o.dnsServers?.length ? o.dnsServers.join(', ') : "this host's resolver";
    diagnoses.push({
      code: 'DNS_INTERCEPTION',
      severity: 'critical',
      message:
        `DNS interception: ${via} answers for names that cannot exist (${dns.names.join(', ')} → ${dns.addresses.join(', ')}): an NXDOMAIN-rewriting resolver or a DNS filter. ` +
        `A name that should fail resolves to that address instead, so probes that reached it are marked DNS_INTERCEPTED, not passed; use a resolver that answers NXDOMAIN (--dns-server) or ask for the vendor's names to be exempted`,
    });
  }
  return { diagnoses, ...(dns ? { dns } : {}) };
}

/** A host name and its address through the run's resolver (IP literals pass through). */
async function addressOf(host: string, lookup: FindingOptions['lookup']): Promise<string | undefined> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host))[0]?.address;
  } catch {
    return undefined;
  }
}

interface Answer {
  status: number;
  location?: string;
  body: string;
}

/** GET a URL directly (no proxy: a portal sits on the direct path), body capped, no redirects followed. */
async function get(url: URL, o: FindingOptions): Promise<Answer | undefined> {
  const address = await addressOf(url.hostname.replace(/^\[|\]$/g, ''), o.lookup);
  if (!address) return undefined;
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: address,
        port: url.port || 80,
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { host: url.host, 'user-agent': 'netcheck', connection: 'close' },
        timeout: o.timeoutMs,
        agent: false,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 16_384) body += d;
          else res.destroy();
        });
        const done = (): void => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: String(res.headers.location) } : {}), body });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    // No answer says nothing about a portal (the URL may simply be blocked): no finding.
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

function pageTitle(body: string): string | undefined {
  const t = /<title[^>]*>([^<]{1,120})<\/title>/i.exec(body)?.[1]?.trim();
  return t ? t.replace(/\s+/g, ' ') : undefined;
}

function portalMessage(what: string, expected: string, a: { status?: number; location?: string; title?: string; statusLine?: string }): Diagnosis {
  const answer = a.statusLine ?? `HTTP ${a.status}`;
  const where = a.location ? `, redirecting to ${a.location}` : a.title ? ` (a page titled "${a.title}")` : '';
  return {
    code: 'CAPTIVE_PORTAL',
    severity: 'critical',
    message:
      `captive portal: ${what} should answer ${expected} but was answered by someone else with ${answer}${where}. ` +
      `This network sends web requests to a login or terms page: sign in (or have this device let through), then run netcheck again; until then the lines below may describe the portal, not the firewall`,
  };
}

async function portalByUrl(text: string, expect: Expectation | undefined, o: FindingOptions): Promise<Diagnosis | undefined> {
  const url = new URL(text);
  const e = expect ?? KNOWN_ANSWERS[url.href] ?? { status: 204 };
  const a = await get(url, o);
  if (!a) return undefined;
  const statusOk = e.status !== undefined ? a.status === e.status : a.status >= 200 && a.status < 300;
  const bodyOk = e.body === undefined || a.body.includes(e.body);
  if (statusOk && bodyOk) return undefined;
  const title = pageTitle(a.body);
  return portalMessage(url.href, describeExpectation(e), { status: a.status, ...(a.location ? { location: a.location } : {}), ...(title ? { title } : {}) });
}

/**
 * The reflector's TCP port echoes whatever it receives, so an HTTP request sent there must come
 * back byte for byte; an HTTP response instead is someone on the path answering in its place.
 */
async function portalByReflector(r: ReflectorTarget, o: FindingOptions): Promise<Diagnosis | undefined> {
  const address = await addressOf(r.host, o.lookup);
  if (!address || !r.tcpPort) return undefined;
  const request = Buffer.from(`GET /netcheck/portal-check/${randomBytes(4).toString('hex')} HTTP/1.1\r\nHost: ${hostPort(r.host, r.tcpPort)}\r\nUser-Agent: netcheck\r\nConnection: close\r\n\r\n`, 'latin1');
  const reply = await new Promise<Buffer | undefined>((resolve) => {
    const s = connect({ host: address, port: r.tcpPort!, noDelay: true });
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = (v: Buffer | undefined): void => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', abort);
      s.destroy();
      resolve(v);
    };
    const abort = (): void => finish(undefined);
    const timer = setTimeout(() => finish(got ? Buffer.concat(chunks) : undefined), o.timeoutMs);
    o.signal?.addEventListener('abort', abort, { once: true });
    s.on('connect', () => s.write(request));
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      got += d.length;
      // The echo is complete; or an HTTP answer's headers are in.
      const all = Buffer.concat(chunks);
      if (got >= request.length || all.includes('\r\n\r\n')) finish(all);
    });
    s.on('end', () => finish(got ? Buffer.concat(chunks) : undefined));
    s.on('error', () => finish(got ? Buffer.concat(chunks) : undefined));
  });
  if (!reply || reply.subarray(0, request.length).equals(request)) return undefined;
  const text = reply.toString('latin1');
  const statusLine = /^(HTTP\/\d(?:\.\d)? \d{3}[^\r\n]*)/.exec(text)?.[1];
  if (!statusLine) return undefined;
  const location = /\r\nlocation:\s*([^\r\n]+)/i.exec(text)?.[1]?.trim();
  return portalMessage(`an HTTP request to the reflector ${hostPort(r.host, r.tcpPort)} (which echoes what it receives)`, 'with its own request', { statusLine: statusLine.trim(), ...(location ? { location } : {}) });
}

/** Names that cannot exist: random labels under real top-level domains (RFC 6761 names are often answered locally). */
export function impossibleNames(): string[] {
  return ['com', 'net'].map((tld) => `netcheck-nx-${randomBytes(8).toString('hex')}.${tld}`);
}

async function dnsInterception(o: FindingOptions): Promise<DnsInterception | undefined> {
  const names = impossibleNames();
  const answers = await Promise.all(
    names.map(async (n) => {
      try {
        return (await o.lookup(n)).map((a) => a.address);
      } catch {
        // NXDOMAIN (as it should be), or the resolver failing: neither is interception.
        return [];
      }
    }),
  );
  const answered = names.filter((_, i) => answers[i]!.length > 0);
  if (!answered.length) return undefined;
  return { names: answered, addresses: [...new Set(answers.flat())] };
}

/**
 * Re-read results against a DNS interception: a name that resolved only to the interceptor's
 * addresses, or a probe that connected to one, did not reach the vendor (mutates the results).
 */
export function markIntercepted(results: ProbeResult[], dns: DnsInterception): void {
  const fake = new Set(dns.addresses);
  for (const r of results) {
    if (r.status !== 'ok' || isIP(r.host)) continue;
    // The dns prober records `answers: { A: [{ address, ttl }], AAAA: […] }`.
    const answers = r.kind === 'dns' ? Object.values((r.data?.answers as Record<string, { address: string }[]> | undefined) ?? {}).flat().map((a) => a.address) : [];
    const hit = r.kind === 'dns' ? answers.length > 0 && answers.every((a) => fake.has(a)) : r.address !== undefined && fake.has(r.address);
    if (!hit) continue;
    r.status = 'error';
    r.reason = 'DNS_INTERCEPTED';
    r.detail = `${r.host} resolved to ${r.kind === 'dns' ? answers.join(', ') : r.address}, the address the resolver also gives for names that do not exist: not the vendor's server (was: ${r.detail ?? r.reason})`;
  }
}
