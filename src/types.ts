/**
 * Core contracts shared by catalogs, probers, the engine and the renderers.
 * The {@link Report} type is the public, versioned output contract.
 */

/**
 * What one probe saw. Each state has exactly one meaning (see ../shared/STYLE.md):
 * - `ok`            the expected behaviour was seen (handshake completed, reply received, valid answer)
 * - `refused`       an active refusal: TCP RST, ICMP port unreachable
 * - `unreachable`   ICMP host/net/admin unreachable, or no route
 * - `filtered`      silence where an answer was due (an unanswered SYN)
 * - `open|filtered` UDP silence: no reply and no ICMP; ambiguous, never `ok`
 * - `timeout`       connected, then an application step missed its deadline
 * - `error`         local or unclassifiable
 * - `skipped`       not applicable here
 */
export type Status =
  | 'ok'
  | 'refused'
  | 'unreachable'
  | 'filtered'
  | 'open|filtered'
  | 'timeout'
  | 'error'
  | 'skipped';

export const STATUSES: readonly Status[] = [
  'ok',
  'refused',
  'unreachable',
  'filtered',
  'open|filtered',
  'timeout',
  'error',
  'skipped',
];

/** Verdict of one documented line, derived from its probes. */
export type Verdict = 'pass' | 'fail' | 'partial' | 'inconclusive';

/** Timing phases of a connection. An absent phase is absent, never 0. */
export interface Phases {
  resolveMs?: number;
  connectMs?: number;
  tlsMs?: number;
  firstByteMs?: number;
  transferMs?: number;
}

/** How addresses were picked from a CIDR range, so the report can say so. */
export interface SamplingInfo {
  cidr: string;
  strategy: 'spread' | 'random' | 'all';
  /** Addresses actually probed. */
  sampled: number;
  /** Addresses in the range (a decimal string: an IPv6 range does not fit a number). */
  rangeSize: string;
  seed?: number;
}

/** One probe the engine will send: fully resolved, no parameters left. */
export interface ProbeSpec {
  /** Stable id, unique in a plan, e.g. `provisioning-primary/tcp/54.215.171.160:80`. */
  id: string;
  /** Id of the documented line this probe checks. */
  line: string;
  kind: string;
  /** The host as documented: an IP literal or a DNS name. */
  host: string;
  port?: number;
  /** Kind-specific options (payload, expected reply, HTTP method and path, record types, …). */
  options: Record<string, unknown>;
  timeoutMs: number;
  /** Set when `host` was drawn from a sampled range. */
  sampledFrom?: string;
}

/** Everything a prober may use besides its spec. Probers must not touch globals. */
export interface ProbeContext {
  /** Aborted at the probe's deadline or when the run is interrupted. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Explicit DNS server(s) `host[:port]`; absent means the system resolver. */
  dnsServers?: string[];
  /** IP family restriction. */
  family?: 4 | 6;
  /**
   * Name resolution shared by the whole run (names are resolved once, not per probe). Rejects
   * with an errno-style `code` (ENOTFOUND, ESERVFAIL, ETIMEOUT, …).
   */
  lookup(host: string): Promise<ResolvedAddress[]>;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** What a prober returns. Network conditions are outcomes, never exceptions. */
export interface ProbeOutcome {
  status: Status;
  /** Stable machine-readable reason code, e.g. `ECONNREFUSED`, `SYN_TIMEOUT`, `UDP_REPLY`. */
  reason: string;
  /** One human sentence explaining the reason. */
  detail?: string;
  /** The address actually probed (after resolution). */
  address?: string;
  phases?: Phases;
  /** Kind-specific facts (HTTP status, DNS answers, reply bytes…). JSON-serialisable. */
  data?: Record<string, unknown>;
}

/** The one signature every prober implements. */
export type Prober = (spec: ProbeSpec, ctx: ProbeContext) => Promise<ProbeOutcome>;

/** A probe result as it appears in a report. */
export interface ProbeResult extends ProbeOutcome {
  id: string;
  line: string;
  kind: string;
  host: string;
  port?: number;
  sampledFrom?: string;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  durationMs: number;
  attempts: number;
  /** True when the outcome came from a bug in netcheck rather than the network. */
  internal?: boolean;
}

/** A documented line in the report, with its verdict. */
export interface LineResult {
  id: string;
  section: string;
  description: string;
  role?: string;
  required: boolean;
  condition?: string;
  source: string;
  verdict: Verdict;
  /** Why this verdict, in one sentence. */
  reason: string;
  /** What an IT admin should do; absent on pass. */
  remediation?: string;
  probes: string[];
  counts: Partial<Record<Status, number>>;
  sampling?: SamplingInfo[];
}

export interface SectionResult {
  id: string;
  name: string;
  description?: string;
  source: string;
  lines: string[];
}

/** A finding that must be read before any per-line result. */
export interface Diagnosis {
  code: 'NO_OUTBOUND_CONNECTIVITY' | 'TCP_INTERCEPTION' | 'INTERRUPTED' | 'DNS_BROKEN';
  severity: 'critical' | 'warning';
  message: string;
}

export interface RunSummary {
  verdicts: Record<Verdict, number>;
  statuses: Partial<Record<Status, number>>;
  requiredFailing: number;
  requiredInconclusive: number;
  probes: number;
}

export const REPORT_SCHEMA_VERSION = 1;

/**
 * The environment fingerprint of a run (collected by src/report/environment.ts). Proxy
 * credentials are always masked; `--redact` also masks internal addresses and host names.
 */
export interface EnvironmentInfo {
  netcheckVersion: string;
  os: { platform: string; type: string; release: string; arch: string; hostname: string };
  node: string;
  interfaces: { name: string; addresses: { address: string; family: 4 | 6; cidr?: string; internal: boolean }[] }[];
  /** Default routes from /proc/net/route and /proc/net/ipv6_route (Linux); empty when unknown. */
  defaultRoutes: { family: 4 | 6; interface: string; gateway?: string; metric: number }[];
  dns: { servers: string[]; source: 'dns-server' | 'resolv.conf' | 'unknown'; search?: string[] };
  /** Proxy environment variables in effect, credentials replaced by `***`. */
  proxy: { name: string; value: string }[];
  /** Public source address of this host as seen by a far end, when a probe learned it. */
  egress?: { address: string; source: string };
  time: { collectedAt: string; timeZone: string; utcOffsetMinutes: number };
}

/** The finished result of a run: the only input of every renderer. */
export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'netcheck'; version: string };
  catalog: { id: string; title: string; sources: string[]; file?: string };
  parameters: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  interrupted: boolean;
  diagnoses: Diagnosis[];
  control?: {
    target: string;
    status: Status;
    reason: string;
  };
  summary: RunSummary;
  sections: SectionResult[];
  lines: LineResult[];
  probes: ProbeResult[];
  /** Lines of the document that do not apply with these parameters, with why. */
  notApplicable?: { id: string; reason: string }[];
  timers?: { id: string; protocol: string; seconds: number; description: string; checked: false }[];
  /** Where the run happened: host, network configuration, resolver, proxies, time. Set by runCheck. */
  environment?: EnvironmentInfo;
}
