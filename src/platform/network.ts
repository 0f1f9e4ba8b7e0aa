/**
 * This machine's network configuration for the environment fingerprint, read where each operating
 * system keeps it: Linux's /proc and /etc/resolv.conf; elsewhere `route print` (Windows) or
 * `netstat -rn` (macOS, BSD, Linux without /proc) and Node's own view of the resolver
 * (`dns.getServers()`). What cannot be read is reported as unknown, never as "none": a support
 * engineer must not read "no default route" into a machine whose routes were simply not readable.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getServers } from 'node:dns';
import { isIP } from 'node:net';
import os from 'node:os';
import type { EnvironmentInfo } from '../types.js';

export type Route = EnvironmentInfo['defaultRoutes'][number];
/** Where the default routes came from; `unknown` when nothing could be read. */
export type RouteSource = NonNullable<EnvironmentInfo['routeSource']>;

/** How a command's output is obtained (tests pass canned output). Undefined when it cannot run. */
export type RunCommand = (cmd: string, args: string[]) => string | undefined;

/** Run a route listing with a short deadline; any failure (absent tool, timeout) is undefined. */
export const runCommand: RunCommand = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 3000, windowsHide: true, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 4 * 1024 * 1024 });
  } catch {
    return undefined;
  }
};

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
export function parseProcRoute(text: string): Route[] {
  const out: Route[] = [];
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
export function parseIpv6Route(text: string): Route[] {
  const out: Route[] = [];
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

/**
 * Default routes from Windows' `route print`. Matched by shape, not by heading, because Windows
 * translates the headings ("Aktive Routen:"): IPv4 rows `0.0.0.0 0.0.0.0 GATEWAY IFADDR METRIC`,
 * IPv6 rows `IFINDEX METRIC ::/0 GATEWAY`; a gateway that is not an address ("On-link") is none.
 * Interfaces are named from the Interface List (index) or `names` (an interface address → name).
 * Persistent-route rows (no interface column) are not active routes and do not match.
 */
export function parseRoutePrint(text: string, names: ReadonlyMap<string, string> = new Map()): Route[] {
  const byIndex = new Map<string, string>();
  const out: Route[] = [];
  const seen = new Set<string>();
  const add = (r: Route): void => {
    const k = `${r.family} ${r.interface} ${r.gateway ?? ''}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push(r);
  };
  for (const raw of text.split(/\r?\n/)) {
    const ifl = /^\s*(\d+)\.{3}(?:[0-9a-f]{2}[ -])*[0-9a-f]{0,2}\s*\.+(.+?)\s*$/i.exec(raw);
    if (ifl) {
      byIndex.set(ifl[1]!, ifl[2]!);
      continue;
    }
    const v4 = /^\s*0\.0\.0\.0\s+0\.0\.0\.0\s+(\S+)\s+(\d{1,3}(?:\.\d{1,3}){3})\s+(\d+)\s*$/.exec(raw);
    if (v4) {
      const gateway = isIP(v4[1]!) ? v4[1] : undefined;
      add({ family: 4, interface: names.get(v4[2]!) ?? v4[2]!, ...(gateway ? { gateway } : {}), metric: Number(v4[3]) });
      continue;
    }
    const v6 = /^\s*(\d+)\s+(\d+)\s+::\/0\s+(\S+)\s*$/.exec(raw);
    if (v6) {
      const gateway = isIP(v6[3]!.replace(/%.*$/, '')) ? v6[3] : undefined;
      add({ family: 6, interface: byIndex.get(v6[1]!) ?? `interface ${v6[1]}`, ...(gateway ? { gateway } : {}), metric: Number(v6[2]) });
    }
  }
  return out.sort((a, b) => a.family - b.family || a.metric - b.metric);
}

/**
 * Default routes from `netstat -rn`: macOS and the BSDs (`default GATEWAY FLAGS NETIF`), and
 * net-tools on Linux (`0.0.0.0 GATEWAY 0.0.0.0 UG METRIC … IFACE`). Columns are found from each
 * table's header line; a gateway such as `link#4` (directly attached) is none.
 */
export function parseNetstatRn(text: string): Route[] {
  const out: Route[] = [];
  let cols: string[] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const f = raw.trim().split(/\s+/);
    if (f[0] === 'Destination') {
      cols = f;
      continue;
    }
    if (!cols || f.length < 3) continue;
    const at = (name: string): string | undefined => {
      const i = cols!.indexOf(name);
      return i >= 0 ? f[i] : undefined;
    };
    const dest = f[0]!;
    const genmask = at('Genmask');
    const isDefault = dest === 'default' || dest === '::/0' || (dest === '0.0.0.0' && (genmask === undefined || genmask === '0.0.0.0')) || dest === '0.0.0.0/0';
    if (!isDefault) continue;
    const gw = f[1]!;
    const bare = gw.replace(/%.*$/, '');
    // The interface is the last column that names one (Expire may be empty, shifting nothing before it).
    const iface = at('Netif') ?? at('Iface') ?? f[f.length - 1]!;
    const family: 4 | 6 = isIP(bare) === 6 ? 6 : isIP(bare) === 4 ? 4 : dest.includes(':') ? 6 : 4;
    const metric = Number(at('Metric') ?? 0);
    out.push({ family, interface: iface, ...(isIP(bare) && bare !== '0.0.0.0' ? { gateway: gw } : {}), metric: Number.isFinite(metric) ? metric : 0 });
  }
  return out.sort((a, b) => a.family - b.family || a.metric - b.metric);
}

export interface RouteReadOptions {
  /** Where /proc is (tests). */
  procDir?: string;
  platform?: NodeJS.Platform;
  run?: RunCommand;
}

/** This machine's default routes and where they came from. */
export function readDefaultRoutes(opts: RouteReadOptions = {}): { routes: Route[]; source: RouteSource } {
  const proc = opts.procDir ?? '/proc';
  const platform = opts.platform ?? process.platform;
  const run = opts.run ?? runCommand;
  const v4 = platform === 'linux' ? readOr(`${proc}/net/route`) : undefined;
  if (v4 !== undefined) return { routes: [...parseProcRoute(v4), ...parseIpv6Route(readOr(`${proc}/net/ipv6_route`) ?? '')], source: 'proc' };
  if (platform === 'win32') {
    const text = run('route', ['print']);
    if (text !== undefined && /0\.0\.0\.0|::\/0|=====/.test(text)) return { routes: parseRoutePrint(text, addressNames()), source: 'route print' };
    return { routes: [], source: 'unknown' };
  }
  const text = run('netstat', ['-rn']);
  if (text !== undefined && /Destination/.test(text)) return { routes: parseNetstatRn(text), source: 'netstat -rn' };
  return { routes: [], source: 'unknown' };
}

/** Interface address → interface name, to name the interface column of `route print`. */
function addressNames(): Map<string, string> {
  const out = new Map<string, string>();
  try {
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) for (const a of addrs ?? []) out.set(a.address, name);
  } catch {
    /* unreadable: the addresses stay as they are */
  }
  return out;
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

export interface DnsReadOptions {
  /** `--dns-server` values: when given, they are the servers in use. */
  dnsServers?: string[];
  /** Where resolv.conf is (tests); read on every platform but Windows, which has none. */
  resolvConf?: string;
  platform?: NodeJS.Platform;
  /** The system resolver's servers as Node sees them (tests pass a fixed list). */
  systemServers?: () => string[];
}

/** The DNS servers in use: `--dns-server`, else resolv.conf, else the system resolver's list. */
export function readDnsServers(opts: DnsReadOptions = {}): EnvironmentInfo['dns'] {
  if (opts.dnsServers?.length) return { servers: [...opts.dnsServers], source: 'dns-server' };
  const platform = opts.platform ?? process.platform;
  const rc = platform === 'win32' ? undefined : readOr(opts.resolvConf ?? '/etc/resolv.conf');
  if (rc !== undefined) {
    const parsed = parseResolvConf(rc);
    return { servers: parsed.servers, source: 'resolv.conf', ...(parsed.search.length ? { search: parsed.search } : {}) };
  }
  // Windows keeps its resolvers in the registry per adapter; Node (c-ares) reads them at start-up.
  try {
    const servers = (opts.systemServers ?? getServers)();
    if (servers.length) return { servers, source: 'system' };
  } catch {
    /* fall through: unknown */
  }
  return { servers: [], source: 'unknown' };
}
