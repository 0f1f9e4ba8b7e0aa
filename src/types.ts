/**
 * Core contracts shared by catalogs, probers, the engine and the renderers.
 * The {@link Report} type is the public, versioned output contract.
 */

/**
 * What one probe saw. Each state has exactly one meaning (README, "What the results mean"):
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
  /** @minimum 0 */
  resolveMs?: number;
  /** @minimum 0 */
  connectMs?: number;
  /** @minimum 0 */
  tlsMs?: number;
  /** @minimum 0 */
  firstByteMs?: number;
  /** @minimum 0 */
  transferMs?: number;
}

/** How addresses were picked from a CIDR range, so the report can say so. */
export interface SamplingInfo {
  cidr: string;
  strategy: 'spread' | 'random' | 'all';
  /**
   * Addresses actually probed.
   * @asType integer
   */
  sampled: number;
  /** Addresses in the range (a decimal string: an IPv6 range does not fit a number). */
  rangeSize: string;
  /** @asType integer */
  seed?: number;
}

/**
 * One probe the engine will send: fully resolved, no parameters left. `O` is the shape of its
 * options: a prober declares its kind's (`Prober<HttpOptions>`), read off the kind's schema.
 */
export interface ProbeSpec<O extends object = Record<string, unknown>> {
  /** Stable id, unique in a plan, e.g. `provisioning-primary/tcp/54.215.171.160:80`. */
  id: string;
  /** Id of the documented line this probe checks. */
  line: string;
  kind: string;
  /** The host as documented: an IP literal or a DNS name. */
  host: string;
  port?: number;
  /**
   * Kind-specific options (payload, expected reply, HTTP method and path, record types, …), as the
   * catalog validator let them through (the kind's schema), or as typed code built them.
   */
  options: O;
  timeoutMs: number;
  /**
   * Deadline of the connection set-up (connect, TLS, upgrade) for kinds whose `timeoutMs` covers a
   * long hold (`ws-hold`): the run's `--timeout`, so a silent peer is not waited on for minutes.
   */
  setupTimeoutMs?: number;
  /** Set when `host` was drawn from a sampled range. */
  sampledFrom?: string;
}

/** Everything a prober may use besides its spec. Probers must not touch globals. */
export interface ProbeContext {
  /** Aborted at the probe's deadline or when the run is interrupted. */
  signal: AbortSignal;
  /**
   * Calls `fn` once when `signal` aborts, without an EventTarget listener: for the probers a sweep
   * runs thousands of times (tcp), where adding and removing an abort listener cost ~6 µs per probe,
   * a tenth of a loopback connect. Every callback registered during an attempt is called (attempts
   * run side by side within one probe each register one); they are dropped when the attempt
   * settles. Returns false, and never calls `fn`, when the deadline has already passed. The engine
   * always sets it; without it, use `signal`. A prober that adds no listener to `signal` also lets
   * its worker keep its controller for the next probe (a fresh one costs ~4 µs).
   */
  onDeadline?: (fn: () => void) => boolean;
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
  /**
   * Aborted when the user asks the run to stop (first Ctrl-C). Probers that last minutes (the
   * idle-timer kinds) return what they measured so far instead of running to their deadline.
   */
  stopSignal?: AbortSignal;
  /** Live progress of a long probe (idle-timer checks), shown as a countdown on stderr. */
  progress?: (update: ProbeProgress) => void;
  /** Shared secret of a netcheck reflector (HMAC on ARM); kept out of specs so plans never print it. */
  reflectorSecret?: string;
  /**
   * SHA-256 fingerprint (`AB:CD:…`) of a netcheck reflector's self-signed certificate: WebSocket
   * checks accept a certificate that no CA vouches for only when it is exactly this one.
   */
  reflectorFingerprint?: string;
  /**
   * HTTP proxies (`--proxy`, HTTP_PROXY / HTTPS_PROXY / NO_PROXY) for the kinds that can use one
   * (http, tls, ws, ocsp, crl); absent means direct. Holds credentials: never print it whole.
   */
  proxy?: ProxySettings;
}

/** One proxy server. */
export interface ProxyEndpoint {
  host: string;
  port: number;
  /** `Basic …` when the URL carried credentials. Never print or log it. */
  authorization?: string;
  /** `http://host:port`, with `***@` where credentials were: safe to print. */
  display: string;
}

/** The proxy configuration of a run. */
export interface ProxySettings {
  http?: ProxyEndpoint;
  https?: ProxyEndpoint;
  /** NO_PROXY entries: names, `.suffix`, IPs, CIDR ranges, optional `:port`, or `*`. */
  noProxy: string[];
  /** Where the settings came from, for the report. */
  source: 'flag' | 'env';
  /** Also run each proxiable probe directly and attach that outcome as `data.direct`. */
  compareDirect?: boolean;
}

/**
 * Progress of a long-running probe, and when it will end. Each of its `flows` is in exactly one
 * of the counts, so alive + lost + pending + failed = flows.
 */
export interface ProbeProgress {
  id: string;
  /** Wall-clock epoch milliseconds at which the probe's last gap ends. */
  endsAt: number;
  /** Flows of the probe. */
  flows: number;
  /** Flows shown to be alive: survived their gap, or held open (a WebSocket answering pings). */
  alive: number;
  lost: number;
  /** Flows whose outcome is not known yet (setting up, idle in their gap, answering). */
  pending: number;
  /** Flows that could not be set up (reflector unreachable or refusing). */
  failed: number;
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

/**
 * The one signature every prober implements. `O`: the options of its kind (src/kinds/), which the
 * catalog's schema checked before the run, so the prober reads them without re-checking.
 */
export type Prober<O extends object = Record<string, unknown>> = (spec: ProbeSpec<O>, ctx: ProbeContext) => Promise<ProbeOutcome>;

/** A probe result as it appears in a report. */
export interface ProbeResult extends ProbeOutcome {
  id: string;
  line: string;
  kind: string;
  host: string;
  /**
   * @asType integer
   * @minimum 1
   * @maximum 65535
   */
  port?: number;
  sampledFrom?: string;
  /** Wall-clock start, ISO 8601. */
  startedAt: string;
  /** @minimum 0 */
  durationMs: number;
  /**
   * @asType integer
   * @minimum 0
   */
  attempts: number;
  /** True when the outcome came from a bug in netcheck rather than the network. */
  internal?: boolean;
  /**
   * True when the probe could not be sent because of this host (it ran out of file descriptors):
   * the outcome says nothing about the network.
   */
  local?: boolean;
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
  /** The row of the vendor document this line transcribes, verbatim (catalog `quote`). */
  quote?: string;
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
  code: 'NO_OUTBOUND_CONNECTIVITY' | 'TCP_INTERCEPTION' | 'INTERRUPTED' | 'DNS_BROKEN' | 'CAPTIVE_PORTAL' | 'DNS_INTERCEPTION' | 'FD_EXHAUSTED';
  severity: 'critical' | 'warning';
  message: string;
}

export interface RunSummary {
  verdicts: Record<Verdict, number>;
  statuses: Partial<Record<Status, number>>;
  /** @asType integer */
  requiredFailing: number;
  /** @asType integer */
  requiredInconclusive: number;
  /** @asType integer */
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
  /** `unknown` when the interfaces could not be read (then `interfaces` is empty but says nothing). */
  interfacesSource?: 'unknown';
  /** Default routes (src/platform/network.ts); empty when there are none or, with routeSource `unknown`, when unreadable. */
  defaultRoutes: {
    family: 4 | 6;
    interface: string;
    gateway?: string;
    /**
     * @asType integer
     * @minimum 0
     */
    metric: number;
  }[];
  /** Where defaultRoutes came from: /proc (Linux), `route print` (Windows), `netstat -rn` (macOS, BSD), or `unknown`. */
  routeSource?: 'proc' | 'route print' | 'netstat -rn' | 'unknown';
  /** `system`: the resolver list Node reads from the OS (Windows registry, or resolv.conf's defaults). */
  dns: { servers: string[]; source: 'dns-server' | 'resolv.conf' | 'system' | 'unknown'; search?: string[] };
  /** Proxy environment variables in effect, credentials replaced by `***`. */
  proxy: { name: string; value: string }[];
  /** Public source address of this host as seen by a far end, when a probe learned it. */
  egress?: { address: string; source: string };
  time: {
    /** @format date-time */
    collectedAt: string;
    timeZone: string;
    /** @asType integer */
    utcOffsetMinutes: number;
  };
}

/** The finished result of a run: the only input of every renderer. */
export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: 'netcheck'; version: string };
  catalog: { id: string; title: string; sources: string[]; file?: string; document?: SourceDocument };
  parameters: Record<string, string>;
  /** @format date-time */
  startedAt: string;
  /** @format date-time */
  finishedAt: string;
  /** @minimum 0 */
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
  /** Lines a narrowed run (`--only`) did not run, with why: neither passed nor failed, and not counted. */
  notRun?: { id: string; reason: string }[];
  /** The document's idle timers (e.g. ESChat's 12-minute TCP registration timer), and what was measured of them. */
  timers?: TimerResult[];
  /** Where the run happened: host, network configuration, resolver, proxies, time. Set by runCheck. */
  environment?: EnvironmentInfo;
  /**
   * "Ask your network team to allow": merged firewall rules for exactly the failing and partial
   * lines, and what to do about failures no rule can fix (src/report/fixlist.ts).
   */
  fixList?: FixList;
}

/** The vendor document behind a catalog (catalog `document`), so a reader can check each quote. */
export interface SourceDocument {
  /** The catalog's `source`: the document's file name or identifier. */
  file: string;
  /** The document's title, as it stands on the page. */
  title: string;
  publisher?: string;
  /** Where it is published, when that is public and known from the document (or one linking to it). */
  url?: string;
  /** The version or modification date the document states, in its own words. */
  revision?: string;
  /** When the catalog was transcribed from it (YYYY-MM-DD). */
  seen?: string;
  /** Anything else a reader needs to find it (e.g. a permalink without a site). */
  note?: string;
}

/**
 * One firewall rule: a documented line's addresses × one protocol and its ports, in one
 * direction. `netcheck allowlist` makes them from a catalog, the fix list from a report's failures.
 */
export interface AllowRule {
  catalog: string;
  line: string;
  section: string;
  description: string;
  /** `outbound`: from your network to the addresses. `inbound`: from the addresses to your systems. */
  direction: 'outbound' | 'inbound';
  protocol: 'tcp' | 'udp';
  /** @minItems 1 */
  ports: number[];
  /** IPv4 addresses and ranges (contained ranges folded into their parents). */
  v4: string[];
  v6: string[];
  /** Host names: a packet filter cannot match them; allow them by name on a proxy, or resolve them. */
  names: string[];
  source: string;
  quote?: string;
  condition?: string;
  /** Where the addresses came from when not the catalog itself (e.g. an ip-ranges.json file). */
  from?: string;
}

/** Why a failure is not fixed by opening a port, and so gets its own instruction. */
export type FixCode = 'DNS_DRIFT' | 'DNS_FAILURE' | 'DNS_INTERCEPTION' | 'TLS_INSPECTION' | 'PROXY' | 'WEB_FILTER' | 'PATH_MTU' | 'STALLED' | 'MEDIA_QUALITY' | 'SERVICE' | 'LOCAL';

/** A failure no firewall rule fixes, with the short instruction that does. */
export interface FixInstruction {
  line: string;
  description: string;
  code: FixCode;
  /** What it is about: names, host:port or URLs, as probed. */
  targets: string[];
  /** One or two sentences for the network team. */
  text: string;
  quote?: string;
}

/** The report's "Ask your network team to allow" section. */
export interface FixList {
  /** Merged rules (outbound), one or more per failing or partial line, each with its document line. */
  rules: AllowRule[];
  instructions: FixInstruction[];
}

/**
 * How an idle flow was lost, as seen from the client:
 * - `rst`           a TCP reset arrived (a firewall injecting RST when its state expired, or on the reverse send)
 * - `silent-drop`   the reflector's send after the gap never arrived, and nothing said why (state forgotten, packets dropped)
 * - `icmp`          an ICMP error arrived (port/host/admin unreachable)
 * - `nat-remapped`  the reflector saw the client's answer come from a different address:port than at the start
 *                   (the NAT mapping expired and a new one was made)
 * - `closed`        the connection was closed (FIN, or a WebSocket close frame: see `closeCode`)
 */
export type IdleLoss = 'rst' | 'silent-drop' | 'icmp' | 'nat-remapped' | 'closed';

/** One flow of an idle-timer check (`tcp-idle`, `udp-idle`, `ws-idle`). */
export interface IdleFlowResult {
  /** Flow id, unique in its check (`f1`, `f2`, …). */
  id: string;
  protocol: 'tcp' | 'udp' | 'ws';
  /** The silent gap this flow was given, in milliseconds. */
  gapMs: number;
  /**
   * - `survived`  the reflector's send after the gap arrived, and the client's answer came back on the same mapping
   * - `lost`      see `lost` for how
   * - `unproven`  the far end is not a reflector: the flow was only held (nothing can show an expired state)
   * - `pending`   the run stopped before this flow's gap ended
   * - `error`     the flow could not be set up (reflector unreachable, refused the request, …); see `reason`
   */
  state: 'survived' | 'lost' | 'unproven' | 'pending' | 'error';
  /** True when survived, false when lost; null when neither could be shown. */
  survived: boolean | null;
  lost?: IdleLoss;
  /**
   * Where the loss showed: `during-gap` (a reset/close/ICMP arrived while idle), `reflector-to-client`
   * (the send after the gap did not arrive), `client-to-reflector` (the answer got no reply).
   */
  direction?: 'during-gap' | 'reflector-to-client' | 'client-to-reflector';
  /** Stable code, e.g. `WAKE_RECEIVED`, `WAKE_MISSING`, `ECONNRESET`, `NAT_REMAPPED`, `HELD_OPEN`. */
  reason: string;
  detail: string;
  /** Source address:port the reflector saw when the flow was armed. */
  seen?: string;
  /** Source address:port the reflector saw for the client's answer after the gap. */
  seenAfter?: string;
  /** How late the reflector's send arrived after the gap's deadline (ms; negative = early). */
  wakeLateMs?: number;
  /** When a reset, close or ICMP error arrived, in ms after the flow was armed. */
  lostAtMs?: number;
  /**
   * WebSocket close code, when a close frame ended the flow.
   * @asType integer
   */
  closeCode?: number;
}

/** What a set of staggered gaps shows about a path's idle timer. */
export interface IdleBracket {
  /** Longest gap a flow survived (ms); absent when none survived. */
  longestSurvivedMs?: number;
  /** Shortest gap after which a flow was lost (ms); absent when none was lost. */
  shortestLostMs?: number;
  /** False when a flow was lost after a gap shorter than one that survived (loss, or a path that is not a simple timer). */
  consistent: boolean;
  /** One sentence, e.g. "this path forgets idle TCP flows after 8m to 11m". */
  text: string;
}

/** `ProbeOutcome.data` of the idle-timer kinds. */
export interface IdleCheckData {
  protocol: 'tcp' | 'udp' | 'ws';
  /** The idle time a flow must survive (ms). */
  requireMs: number;
  /** `reflector`: the far end spoke after each gap; `hold`: the far end is not a reflector, flows were only held. */
  mode: 'reflector' | 'hold';
  flows: IdleFlowResult[];
  bracket: IdleBracket;
  verdict: Verdict;
  /** Why this verdict, in one sentence. */
  verdictReason: string;
}

/**
 * A timer of the document (catalog `timers`) in the report. `checked: false` when the run did not
 * measure it (no `--timers`); otherwise the fields below the line are set from the timer check.
 */
export interface TimerResult {
  id: string;
  protocol: string;
  seconds: number;
  description: string;
  checked: boolean;
  /** Why not checked, when `checked` is false and there is a reason beyond "not asked". */
  note?: string;
  /** Id of the probe that measured it (its ProbeResult has the raw outcome). */
  probe?: string;
  /** The far end used, `host:port`. */
  target?: string;
  verdict?: Verdict;
  reason?: string;
  /** The requirement checked against, in ms (the timer's seconds, times `--timer-scale`). */
  requireMs?: number;
  mode?: 'reflector' | 'hold';
  bracket?: IdleBracket;
  flows?: IdleFlowResult[];
}

/** RFC 4787 terms; `address-dependent` needs a second far-end address (STUN RFC 5780 mode). */
export type NatMapping = 'none' | 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown';
/** One reflector address cannot tell endpoint-independent from address-dependent filtering. */
export type NatFiltering = 'none' | 'endpoint-independent' | 'endpoint-independent-or-address-dependent' | 'address-dependent' | 'address-and-port-dependent' | 'unknown';

/** `ProbeOutcome.data` of a nat check. */
export interface NatData {
  /** Against a netcheck reflector's two ports, or a STUN server's two addresses (RFC 5780). */
  method: 'reflector' | 'stun-rfc5780';
  /** The two far-end ports used. */
  ports: [number, number];
  /** STUN mode: the server's other address (OTHER-ADDRESS). */
  otherAddress?: string;
  /** Public address:port the far end saw from one socket, per destination (`to`: port or address:port). */
  seen: { port?: number; to?: string; seen: string }[];
  /** This socket's own address:port (as bound), to recognise "no NAT". */
  local?: string;
  mapping: NatMapping;
  filtering: NatFiltering;
  /** Peer-to-peer media needs a relay (TURN) when the mapping depends on the destination. */
  needsRelay: boolean | null;
  /** One sentence per finding. */
  notes: string[];
}

/** One entry of an address list file (a catalog `file` parameter), with its line for errors. */
export interface IpListEntry {
  value: string;
  line: number;
}

/** An address list a catalog parameter names (`$office-ips`): read by the catalog, compared by ip-list and stun. */
export interface IpList {
  param: string;
  file: string;
  entries: IpListEntry[];
}

/**
 * A list option (`disjointFrom: [$office-ips]`) as the plan resolved it: the parameter's address
 * list, or `unset` when the parameter was not given (the prober says what it could not compare).
 */
export type ResolvedList = IpList | { param: string; unset: true };

/**
 * The run met EMFILE/ENFILE (too many open files): the engine lowered the number of probes in
 * flight and re-sent the probes that got it. `gaveUp` probes could not be sent even one at a
 * time; they are `local` results, not network verdicts.
 */
export interface FdShortage {
  /** Probes in flight when the first shortage was seen. */
  inFlight: number;
  /** The most probes in flight allowed afterwards. */
  loweredTo: number;
  /** Probes re-sent after a shortage. */
  retried: number;
  gaveUp: number;
}
