/**
 * The environment fingerprint: where a run happened. A vendor reading a ticket needs to know which
 * network, resolver and proxy the results came from before believing any line of them.
 *
 * Collection reads only local state (os, /proc, /etc/resolv.conf, the environment): no external
 * commands, no packets. It is called once by runCheck; renderers only read the result.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { EnvironmentInfo } from '../types.js';
import { version } from '../version.js';

/** Environment variables that change where HTTP(S) traffic goes. */
export const PROXY_VARS = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY', 'FTP_PROXY', 'https_proxy', 'http_proxy', 'all_proxy', 'no_proxy', 'ftp_proxy'] as const;

export interface CollectOptions {
  /** `--dns-server` values: when given, they are the DNS servers in use, not resolv.conf's. */
  dnsServers?: string[];
  /** Public source address learned during the run (e.g. reported back by a reflector). */
  egress?: { address: string; source: string };
  /** For tests: where /proc and resolv.conf are read from, and which environment is used. */
  procDir?: string;
  resolvConf?: string;
  env?: NodeJS.ProcessEnv;
  now?: Date;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `0100A8C0` (little-endian hex, as /proc/net/route writes it) → `192.168.0.1`. */
function hexLeToIpv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
}

/** Default IPv4 routes from the text of /proc/net/route. */
export function parseProcRoute(text: string): EnvironmentInfo['defaultRoutes'] {
  const out: EnvironmentInfo['defaultRoutes'] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, gw, flags, , , metric, mask] = f as [string, string, string, string, string, string, string, string];
    // RTF_UP (0x1) must be set; a default route is destination 0 with mask 0.
    if (dest !== '00000000' || mask !== '00000000' || !(parseInt(flags, 16) & 0x1)) continue;
    const gateway = gw === '00000000' ? undefined : hexLeToIpv4(gw);
    out.push({ family: 4, interface: iface, ...(gateway ? { gateway } : {}), metric: Number(metric) });
  }
  return out.sort((a, b) => a.metric - b.metric);
}

/** `fe800000000000000000000000000001` → `fe80::1` (compressed). */
function hexToIpv6(hex: string): string {
  const groups = hex.match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

/** Default IPv6 routes from the text of /proc/net/ipv6_route. */
export function parseIpv6Route(text: string): EnvironmentInfo['defaultRoutes'] {
  const out: EnvironmentInfo['defaultRoutes'] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [dest, plen, , , nexthop, metric, , , flags, iface] = f as string[];
    if (!/^0{32}$/.test(dest!) || plen !== '00') continue;
    const fl = parseInt(flags!, 16);
    // RTF_UP set and RTF_REJECT (0x200) clear: the kernel's `unreachable ::/0 dev lo` is no route.
    if (!(fl & 0x1) || fl & 0x200 || iface === 'lo') continue;
    const gateway = /^0{32}$/.test(nexthop!) ? undefined : hexToIpv6(nexthop!);
    out.push({ family: 6, interface: iface!, ...(gateway ? { gateway } : {}), metric: parseInt(metric!, 16) });
  }
  return out.sort((a, b) => a.metric - b.metric);
}

/** `nameserver` and `search`/`domain` entries of a resolv.conf. */
export function parseResolvConf(text: string): { servers: string[]; search: string[] } {
  const servers: string[] = [];
  const search: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) servers.push(rest[0]);
    else if ((key === 'search' || key === 'domain') && rest.length) search.push(...rest);
  }
  return { servers, search: [...new Set(search)] };
}

/**
 * A proxy setting with its credentials replaced by `***`: `http://user:pw@proxy:3128` →
 * `http://***:***@proxy:3128`. Also handles scheme-less `user:pw@host:port` values.
 */
export function redactProxyCredentials(value: string): string {
  return value
    .split(',')
    .map((part) => part.replace(/^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)([^@/\s]+)@/i, (_, pre: string, cred: string) => `${pre}${cred.includes(':') ? '***:***' : '***'}@`))
    .join(',');
}

/** Collect the fingerprint. Never throws: what cannot be read is left out or empty. */
export function collectEnvironment(opts: CollectOptions = {}): EnvironmentInfo {
  const proc = opts.procDir ?? '/proc';
  const env = opts.env ?? process.env;
  const now = opts.now ?? new Date();

  const interfaces: EnvironmentInfo['interfaces'] = [];
  let ifaces: ReturnType<typeof os.networkInterfaces> = {};
  try {
    ifaces = os.networkInterfaces();
  } catch {
    /* some sandboxes refuse the netlink query (uv_interface_addresses): leave interfaces empty */
  }
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (!addrs?.length) continue;
    interfaces.push({
      name,
      addresses: addrs.map((a) => ({
        address: a.address,
        family: a.family === 'IPv6' || (a.family as unknown) === 6 ? 6 : 4,
        ...(a.cidr ? { cidr: a.cidr } : {}),
        internal: a.internal,
      })),
    });
  }

  const routes = [...parseProcRoute(readOr(`${proc}/net/route`) ?? ''), ...parseIpv6Route(readOr(`${proc}/net/ipv6_route`) ?? '')];

  let dns: EnvironmentInfo['dns'];
  const rc = readOr(opts.resolvConf ?? '/etc/resolv.conf');
  const parsed = rc !== undefined ? parseResolvConf(rc) : undefined;
  if (opts.dnsServers?.length) dns = { servers: [...opts.dnsServers], source: 'dns-server' };
  else if (parsed) dns = { servers: parsed.servers, source: 'resolv.conf', ...(parsed.search.length ? { search: parsed.search } : {}) };
  else dns = { servers: [], source: 'unknown' };

  const proxy: EnvironmentInfo['proxy'] = [];
  for (const name of PROXY_VARS) {
    const v = env[name];
    if (v !== undefined && v !== '') proxy.push({ name, value: redactProxyCredentials(v) });
  }

  let timeZone = 'UTC';
  try {
    timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
  } catch {
    /* an ICU-less Node: keep UTC */
  }

  return {
    netcheckVersion: version(),
    os: { platform: process.platform, type: os.type(), release: os.release(), arch: process.arch, hostname: os.hostname() },
    node: process.version,
    interfaces,
    defaultRoutes: routes,
    dns,
    proxy,
    ...(opts.egress ? { egress: opts.egress } : {}),
    time: { collectedAt: now.toISOString(), timeZone, utcOffsetMinutes: -now.getTimezoneOffset() },
  };
}

/**
 * The egress address, when a probe learned it: a STUN probe's mapped address (`data.mapped`), or
 * the source address a reflector saw for an idle flow (`data.flows[].seen`, `ADDR:PORT`).
 */
export function egressFromResults(results: { kind: string; host: string; status?: string; data?: Record<string, unknown> }[]): { address: string; source: string } | undefined {
  const stripPort = (v: string): string => /^\[([^\]]+)\]:\d+$/.exec(v)?.[1] ?? (/^[^:]+:\d+$/.test(v) ? v.slice(0, v.lastIndexOf(':')) : v);
  for (const r of results) {
    const mapped = r.data?.mapped as { address?: unknown } | undefined;
    if (mapped && typeof mapped.address === 'string' && mapped.address) return { address: mapped.address, source: `${r.kind} probe of ${r.host}` };
  }
  for (const r of results) {
    const flows = r.data?.flows;
    if (!Array.isArray(flows)) continue;
    for (const f of flows as { seen?: unknown }[]) {
      if (typeof f?.seen === 'string' && f.seen) return { address: stripPort(f.seen), source: `${r.kind} probe of ${r.host} (as the reflector saw it)` };
    }
  }
  return undefined;
}
