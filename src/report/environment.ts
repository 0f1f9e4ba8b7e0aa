/**
 * The environment fingerprint: where a run happened. A vendor reading a ticket needs to know which
 * network, resolver and proxy the results came from before believing any line of them.
 *
 * Collection reads only local state, through the platform layer (src/platform/network.ts: /proc and
 * resolv.conf on Linux, `route print` / `netstat -rn` and Node's resolver list elsewhere), and
 * sends no packets. It is called once by runCheck; renderers only read the result.
 */
import os from 'node:os';
import { readDefaultRoutes, readDnsServers, type RunCommand } from '../platform/network.js';
import type { EnvironmentInfo } from '../types.js';
import { version } from '../version.js';

/** Environment variables that change where HTTP(S) traffic goes. */
export const PROXY_VARS = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY', 'FTP_PROXY', 'https_proxy', 'http_proxy', 'all_proxy', 'no_proxy', 'ftp_proxy'] as const;

export interface CollectOptions {
  /** `--dns-server` values: when given, they are the DNS servers in use, not resolv.conf's. */
  dnsServers?: string[];
  /** Public source address learned during the run (e.g. reported back by a reflector). */
  egress?: { address: string; source: string };
  /** For tests: where /proc and resolv.conf are read from, which environment and platform are used. */
  procDir?: string;
  resolvConf?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  run?: RunCommand;
  systemDnsServers?: () => string[];
  now?: Date;
}

export { parseIpv6Route, parseProcRoute, parseResolvConf } from '../platform/network.js';

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
  const env = opts.env ?? process.env;
  const now = opts.now ?? new Date();

  const interfaces: EnvironmentInfo['interfaces'] = [];
  let ifaces: ReturnType<typeof os.networkInterfaces> = {};
  let interfacesSource: 'os' | 'unknown' = 'os';
  try {
    ifaces = os.networkInterfaces();
  } catch {
    // Some sandboxes refuse the netlink query (uv_interface_addresses): unknown, not "no interfaces".
    interfacesSource = 'unknown';
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

  const routes = readDefaultRoutes({ ...(opts.procDir ? { procDir: opts.procDir } : {}), ...(opts.platform ? { platform: opts.platform } : {}), ...(opts.run ? { run: opts.run } : {}) });
  const dns = readDnsServers({
    ...(opts.dnsServers ? { dnsServers: opts.dnsServers } : {}),
    ...(opts.resolvConf ? { resolvConf: opts.resolvConf } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.systemDnsServers ? { systemServers: opts.systemDnsServers } : {}),
  });

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
    ...(interfacesSource === 'unknown' ? { interfacesSource } : {}),
    defaultRoutes: routes.routes,
    routeSource: routes.source,
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

