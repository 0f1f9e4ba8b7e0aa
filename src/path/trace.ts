/**
 * Where a path stops: a TTL-limited trace toward a destination on the protocol and port a failed
 * probe used (issue 17). Node can neither send a TCP SYN with a chosen TTL nor read an ICMP
 * "time exceeded", so the operating system's tool does the tracing and the result names it:
 * Linux `traceroute` (the "modern traceroute" Debian ships in package `traceroute`), with `-T` for
 * TCP SYNs (needs root or CAP_NET_RAW) and `-U` for UDP to the same fixed port.
 *
 * Where that tool is missing or cannot be used (not installed, not root for TCP, Windows, whose
 * `tracert` only sends ICMP, macOS, whose traceroute cannot keep a UDP port fixed) the result says
 * so, `traced: false` with why, and nothing fails: a trace only explains a failure already seen.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import ipaddr from 'ipaddr.js';

/** One hop of a trace. */
export interface TraceHop {
  ttl: number;
  /** Who answered (an ICMP time-exceeded, or the destination); absent when nothing did (`*`). */
  address?: string;
  rttMs?: number;
  /** traceroute's annotation of an ICMP error (`!X` admin-prohibited, `!H` host unreachable, …). */
  icmp?: string;
}

/** Where an address lies, as seen from this host. */
export type HopPlace = 'inside' | 'provider-nat' | 'beyond';

/** What a trace showed. Pure data: JSON-serialisable, rendered by the report. */
export interface TraceResult {
  protocol: 'tcp' | 'udp';
  destination: string;
  port: number;
  /** False when no trace could be made; `reason` says why. */
  traced: boolean;
  /** The command used, e.g. `traceroute -T -p 5223` (say which tool, issue 17). */
  tool?: string;
  reason?: string;
  hops: TraceHop[];
  /** The destination itself answered (a SYN-ACK or reset, or an ICMP error from it). */
  reached: boolean;
  /** The farthest hop that answered, when one did and the destination did not. */
  lastHop?: { ttl: number; address: string; place: HopPlace; icmp?: string };
  /** One sentence, e.g. "dropped after hop 1 (10.200.1.1, inside your network)". */
  summary: string;
}

export interface TraceOptions {
  /** An IP address (a name would make the tool resolve it itself, outside the run's resolver). */
  address: string;
  protocol: 'tcp' | 'udp';
  port: number;
  maxHops?: number;
  /** How long to wait for each hop's answer. */
  waitMs?: number;
  /** Probes in flight (`-N`); fewer where every hop past a rejecting firewall would answer with ICMP. */
  inFlight?: number;
  signal?: AbortSignal;
  /** Where to look for the tool (tests); default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Defaults: up to 20 hops, 1 s for each hop's answer, 6 probes in flight (`-N`), and the trace is
 * cut once {@link SILENT_HOPS_TO_STOP} hops in a row stayed silent: a drop shows after about one
 * wait, not twenty. Few probes in flight also spare ICMP rate limits (Linux: a burst of 6, then
 * one per second), which a firewall that rejects every hop would otherwise exhaust for the
 * traces running beside this one.
 */
export const TRACE_DEFAULTS = { maxHops: 20, waitMs: 1000, inFlight: 6 } as const;
export const SILENT_HOPS_TO_STOP = 4;

const ICMP_NOTES: Record<string, string> = {
  '!H': 'host unreachable',
  '!N': 'network unreachable',
  '!P': 'protocol unreachable',
  '!S': 'source route failed',
  '!F': 'fragmentation needed',
  '!X': 'administratively prohibited',
  '!V': 'host precedence violation',
  '!C': 'precedence cutoff',
};

/** ipaddr.js ranges that belong to a site (the same set `--redact` masks as internal). */
const SITE_RANGES = new Set(['private', 'loopback', 'linkLocal', 'uniqueLocal']);

/** Where an address lies: private ranges are this network, CGNAT the provider's, the rest beyond. */
export function hopPlace(address: string): HopPlace {
  if (!ipaddr.isValid(address)) return 'beyond';
  let a = ipaddr.parse(address);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  const range = a.range();
  return range === 'carrierGradeNat' ? 'provider-nat' : SITE_RANGES.has(range) ? 'inside' : 'beyond';
}

/** `inside your network`, … for sentences. */
export function describePlace(p: HopPlace): string {
  return p === 'inside' ? 'inside your network' : p === 'provider-nat' ? "in your provider's carrier-grade NAT" : "beyond your network's egress";
}

/**
 * Parse the output of Linux `traceroute -n` (one query per hop, or several: the first answer of a
 * hop counts). Lines that are not hops (the header, warnings) are ignored.
 */
export function parseTraceroute(text: string): TraceHop[] {
  const hops: TraceHop[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const hop: TraceHop = { ttl: Number(m[1]) };
    const tokens = m[2]!.trim().split(/\s+/);
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (hop.address === undefined && ipaddr.isValid(t)) hop.address = t;
      else if (hop.address !== undefined && hop.rttMs === undefined && /^\d+(\.\d+)?$/.test(t) && tokens[i + 1] === 'ms') hop.rttMs = Number(t);
      else if (hop.address !== undefined && hop.icmp === undefined && /^!/.test(t)) hop.icmp = t;
    }
    hops.push(hop);
  }
  return hops;
}

/** The trace's meaning from its hops. */
export function summariseTrace(protocol: 'tcp' | 'udp', destination: string, hops: TraceHop[]): Pick<TraceResult, 'reached' | 'lastHop' | 'summary'> {
  const destHop = hops.find((h) => h.address !== undefined && sameAddress(h.address, destination));
  const answered = hops.filter((h) => h.address !== undefined && !sameAddress(h.address, destination));
  const last = answered[answered.length - 1];
  if (destHop && !destHop.icmp) {
    return {
      reached: true,
      summary:
        protocol === 'tcp'
          ? `the trace reached ${destination} at hop ${destHop.ttl}: the path gets there now, so the failure is at the destination (or was passing)`
          : `the trace reached ${destination} at hop ${destHop.ttl} (it answered ICMP port unreachable): nothing listens on that UDP port`,
    };
  }
  if (destHop?.icmp) {
    const why = ICMP_NOTES[destHop.icmp.slice(0, 2)] ?? destHop.icmp;
    return { reached: true, summary: `the destination ${destination} (hop ${destHop.ttl}) rejects it with ICMP ${why}` };
  }
  if (!last) {
    return { reached: false, summary: 'no hop answered, not even the first router: dropped on this host or its gateway, or every router on the way hides (ICMP time-exceeded filtered)' };
  }
  const place = hopPlace(last.address!);
  const lastHop = { ttl: last.ttl, address: last.address!, place, ...(last.icmp ? { icmp: last.icmp } : {}) };
  const at = `hop ${last.ttl} (${last.address}, ${describePlace(place)})`;
  if (last.icmp) {
    const why = ICMP_NOTES[last.icmp.slice(0, 2)] ?? last.icmp;
    // The device that rejects also answered the hops before it (time exceeded): name it where it first appears.
    const first = answered.find((h) => h.address === last.address)!;
    return { reached: false, lastHop: { ...lastHop, ttl: first.ttl }, summary: `rejected by hop ${first.ttl} (${last.address}, ${describePlace(place)}) with ICMP ${why}` };
  }
  return {
    reached: false,
    lastHop,
    summary: protocol === 'tcp' ? `dropped after ${at}` : `no answer after ${at}: dropped beyond it, or a destination that takes UDP silently`,
  };
}

function sameAddress(a: string, b: string): boolean {
  try {
    return ipaddr.process(a).toString() === ipaddr.process(b).toString();
  } catch {
    return a === b;
  }
}

/** The traceroute to use: `NETCHECK_TRACEROUTE` when set, else `traceroute` on PATH or in the sbin folders. */
export function findTraceroute(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const override = env.NETCHECK_TRACEROUTE;
  if (override !== undefined) return override !== '' && existsSync(override) ? override : undefined;
  // Debian puts it in /usr/sbin, which a normal user's PATH often lacks.
  const dirs = (env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin']);
  for (const d of dirs) if (d && existsSync(`${d}/traceroute`)) return `${d}/traceroute`;
  return undefined;
}

interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal, stopWhen?: (stdout: string) => boolean): Promise<Exec> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    // LC_ALL=C: messages are matched below; a localised traceroute would say them otherwise.
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stopWhen?.(stdout)) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const kill = (): void => void child.kill('SIGKILL');
    const timer = setTimeout(kill, timeoutMs);
    signal?.addEventListener('abort', kill, { once: true });
    child.once('error', (err) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      resolve({ code: null, stdout, stderr: stderr + err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Modern Linux traceroute (the one with -T/-U and fixed ports), by path: checked once per process. */
const flavour = new Map<string, Promise<boolean>>();

function isModernTraceroute(path: string): Promise<boolean> {
  let p = flavour.get(path);
  if (!p) {
    p = exec(path, ['-V'], 3000).then((r) => /Modern traceroute for Linux/i.test(r.stdout + r.stderr));
    flavour.set(path, p);
  }
  return p;
}

function notTraced(o: TraceOptions, reason: string, tool?: string): TraceResult {
  return { protocol: o.protocol, destination: o.address, port: o.port, traced: false, ...(tool ? { tool } : {}), reason, hops: [], reached: false, summary: `not traced: ${reason}` };
}

/** Trace toward `address` with TCP SYNs or UDP datagrams to `port`. Never throws for network conditions. */
export async function traceRoute(o: TraceOptions): Promise<TraceResult> {
  if (process.platform !== 'linux') {
    return notTraced(o, `tracing on the same protocol and port needs Linux traceroute; this is ${process.platform}`);
  }
  const family = ipaddr.isValid(o.address) ? (ipaddr.parse(o.address).kind() === 'ipv6' ? 6 : 4) : 0;
  if (!family) return notTraced(o, `'${o.address}' is not an IP address`);
  const path = findTraceroute(o.env);
  if (!path) return notTraced(o, 'no traceroute found (Debian/Ubuntu: apt-get install traceroute)');
  if (!(await isModernTraceroute(path))) return notTraced(o, `${path} is not the Linux "modern traceroute" (package traceroute), which tracing on a fixed port needs`, path);
  const maxHops = o.maxHops ?? TRACE_DEFAULTS.maxHops;
  const waitMs = o.waitMs ?? TRACE_DEFAULTS.waitMs;
  const method = o.protocol === 'tcp' ? '-T' : '-U';
  const tool = `traceroute ${method} -p ${o.port}`;
  const inFlight = o.inFlight ?? TRACE_DEFAULTS.inFlight;
  const args = [`-${family}`, '-n', '-q', '1', '-w', String(waitMs / 1000), '-m', String(maxHops), '-N', String(inFlight), method, '-p', String(o.port), o.address];
  // Cut short after enough silent hops in a row (see TRACE_DEFAULTS); the deadline covers the rest.
  let cut = false;
  const stopWhen = (out: string): boolean => {
    const hops = parseTraceroute(out.slice(0, out.lastIndexOf('\n') + 1));
    let silent = 0;
    for (let i = hops.length - 1; i >= 0 && hops[i]!.address === undefined; i--) silent++;
    cut = silent >= SILENT_HOPS_TO_STOP;
    return cut;
  };
  const r = await exec(path, args, waitMs * Math.ceil(maxHops / inFlight) + 5000, o.signal, stopWhen);
  if (o.signal?.aborted) return notTraced(o, 'interrupted', tool);
  if (/not enough privileges|Operation not permitted/i.test(r.stderr)) {
    return notTraced(o, `${o.protocol === 'tcp' ? 'TCP' : 'UDP'} tracing needs root or CAP_NET_RAW here (run as root, or: setcap cap_net_raw+ep ${path})`, tool);
  }
  const hops = parseTraceroute(r.stdout.slice(0, r.stdout.lastIndexOf('\n') + 1));
  if (!cut && r.code !== 0 && hops.length === 0) return notTraced(o, `traceroute failed (exit ${r.code}): ${r.stderr.trim().split('\n')[0] ?? ''}`, tool);
  return { protocol: o.protocol, destination: o.address, port: o.port, traced: true, tool, hops, ...summariseTrace(o.protocol, o.address, hops) };
}
