/**
 * The registry of probe kinds: the only list of them. Adding a kind = its description
 * (../kinds/<kind>.ts, `export const kind`), its prober (./<kind>.ts), a line here, and a test.
 * Every other list of kinds — the catalog's per-kind options, which kinds take ports or URLs,
 * which are UDP, which measure timers, which a proxy carries, the `probe` command's flags — is
 * derived below from the descriptions.
 *
 * Importing the registry imports every description and no prober: a prober, with its libraries
 * (undici, ws, the X.509 stack), is imported when a run has a probe of its kind
 * ({@link loadProbers}), before any deadline starts — so `--version`, `plan` and a TCP sweep do
 * not pay for the rest.
 */
import type { ProbeSpec, Prober } from '../types.js';
import { kind as crl } from '../kinds/crl.js';
import { kind as dns } from '../kinds/dns.js';
import { kind as http } from '../kinds/http.js';
import { kind as ipList } from '../kinds/ipList.js';
import type { KindDescriptor, OptionSchemas, ProbeFlag, ProxyScheme } from '../kinds/kind.js';
import { kind as media } from '../kinds/media.js';
import { kind as nat } from '../kinds/nat.js';
import { kind as ocsp } from '../kinds/ocsp.js';
import { kind as stun } from '../kinds/stun.js';
import { kind as tcpIdle } from '../kinds/tcp-idle.js';
import { kind as tcp } from '../kinds/tcp.js';
import { kind as tls } from '../kinds/tls.js';
import { kind as udpIdle } from '../kinds/udp-idle.js';
import { kind as udp } from '../kinds/udp.js';
import { kind as wsHold } from '../kinds/ws-hold.js';
import { kind as wsIdle } from '../kinds/ws-idle.js';
import { compareDirect, perAddress, withRoute } from './paths.js';

export type { KindDescriptor, ProbeFlag } from '../kinds/kind.js';

/** A registered kind: its description and how to import its prober. */
interface Entry {
  readonly kind: KindDescriptor;
  readonly load: () => Promise<Prober>;
}

/**
 * A registry line: the prober must take the options its description declares (`O`). Past this
 * point a spec's options are untyped data; the catalog's schema (built from the same descriptions)
 * checked them before any prober runs, which is what makes the narrowing below sound.
 */
function entry<O extends object>(kind: KindDescriptor<O>, load: () => Promise<Prober<O>>): Entry {
  return { kind: kind as unknown as KindDescriptor, load: load as unknown as () => Promise<Prober> };
}

// One line per kind, in the order help and errors list them.
const ENTRIES: readonly Entry[] = [
  entry(tcp, async () => (await import('./tcp.js')).tcp),
  entry(udp, async () => (await import('./udp.js')).udp),
  entry(dns, async () => (await import('./dns.js')).dns),
  entry(http, async () => (await import('./http.js')).http),
  entry(tls, async () => (await import('./tls.js')).tls),
  entry(ocsp, async () => (await import('./ocsp.js')).ocsp),
  entry(crl, async () => (await import('./crl.js')).crl),
  entry(stun, async () => (await import('./stun.js')).stun),
  entry(ipList, async () => (await import('./ipList.js')).ipList),
  entry(tcpIdle, async () => (await import('./tcp-idle.js')).tcpIdle),
  entry(udpIdle, async () => (await import('./udp-idle.js')).udpIdle),
  entry(wsIdle, async () => (await import('./ws-idle.js')).wsIdle),
  entry(wsHold, async () => (await import('./ws-hold.js')).wsHold),
  entry(media, async () => (await import('./media.js')).media),
  entry(nat, async () => (await import('./nat.js')).nat),
];

/** Every probe kind, in the order help and errors list them. */
export const KIND_LIST: readonly KindDescriptor[] = ENTRIES.map((e) => e.kind);

const BY_NAME: ReadonlyMap<string, KindDescriptor> = new Map(KIND_LIST.map((k) => [k.name, k]));

/** Every registered kind's name, in registry order. */
export const KINDS: readonly string[] = KIND_LIST.map((k) => k.name);

/** The description of a kind, or undefined for a name no kind has. */
export function kindOf(name: string): KindDescriptor | undefined {
  return BY_NAME.get(name);
}

function namesWhere(test: (k: KindDescriptor) => boolean): ReadonlySet<string> {
  return new Set(KIND_LIST.filter(test).map((k) => k.name));
}

/** Kinds whose targets are hosts, addresses or ranges with the line's ports. */
export const PORTED_KINDS = namesWhere((k) => k.target === 'host:port');
/** Kinds whose targets are URLs (revocation endpoints are documented as URLs). */
export const URL_KINDS = namesWhere((k) => k.target === 'url');
/** Kinds whose packets are UDP. */
export const UDP_KINDS = namesWhere((k) => k.transport === 'udp');
/** Kinds that hold flows for minutes: their statuses speak of idle timers, not of reachability. */
export const TIMER_KINDS = namesWhere((k) => !!k.timer);
/** Kinds that run for seconds or minutes by design (timers, streams): never within a scrape. */
export const LONG_KINDS = namesWhere((k) => !!k.timer || !!k.long);
/** Kinds whose `ok` proves only a TCP handshake (which an intercepting middlebox can fake). */
export const HANDSHAKE_ONLY_KINDS = namesWhere((k) => !!k.handshakeOnly);
/**
 * Kinds a failure of which a firewall rule for its port can fix: they open a connection or send a
 * datagram to the target's port themselves (not a resolver query, an address list, or a timer
 * check, whose flows a rule opened already).
 */
export const PORT_RULE_KINDS = namesWhere((k) => k.transport !== 'none' && k.target !== 'host' && k.target !== 'list' && !k.idle);

/**
 * The transport a ported kind's packets use: the one answer that remediation text ("Allow
 * outbound UDP 3478 …"), the "no outbound connectivity" evidence and the allowlist rules read, so
 * they can never disagree (a STUN probe advised as TCP was issue 10).
 */
export function protocolOf(kind: string): 'tcp' | 'udp' {
  return UDP_KINDS.has(kind) ? 'udp' : 'tcp';
}

/**
 * The protocol a trace of a failed probe of this kind uses, or undefined for kinds whose failures
 * are not traced: those without a port of their own (dns, URLs, lists) and idle-timer checks.
 */
export function traceProtocolOf(kind: string): 'tcp' | 'udp' | undefined {
  const k = kindOf(kind);
  if (!k || k.target !== 'host:port' || k.transport === 'none' || k.idle || k.trace === false) return undefined;
  return k.transport;
}

/** The scheme a proxy would see for a probe: `https` (CONNECT) or `http` (absolute-form), or none. */
export function proxySchemeOf(spec: Pick<ProbeSpec, 'kind' | 'options' | 'port'>): ProxyScheme | undefined {
  return kindOf(spec.kind)?.proxy?.scheme(spec);
}

/** The deadline a check's options imply (the kinds that hold flows), or undefined: `--timeout` applies. */
export function kindDeadlineMs(kind: string, options: Record<string, unknown>): number | undefined {
  return kindOf(kind)?.deadlineMs?.(options);
}

/** The kind that measures idle timers of a protocol (a catalog `timers` entry). */
export function idleKindOf(protocol: 'tcp' | 'udp' | 'ws'): KindDescriptor {
  const k = KIND_LIST.find((d) => d.idle?.protocol === protocol);
  if (!k) throw new Error(`no idle-timer kind for ${protocol}`);
  return k;
}

/** Each kind's catalog options (JSON Schema properties), for the catalog schema. */
export const CHECK_OPTION_SCHEMAS: Readonly<Record<string, OptionSchemas>> = Object.fromEntries(KIND_LIST.map((k) => [k.name, k.options]));

/** A `probe` flag with the kinds that declare it (a flag given to another kind is an error). */
export interface KindFlag extends ProbeFlag {
  kinds: string[];
}

/** Every kind-specific flag of `probe`, once each, in registry order. */
export const PROBE_FLAGS: readonly KindFlag[] = (() => {
  const out = new Map<string, KindFlag>();
  for (const k of KIND_LIST) {
    for (const f of k.flags ?? []) {
      const seen = out.get(f.name);
      if (seen) seen.kinds.push(k.name);
      else out.set(f.name, { ...f, kinds: [k.name] });
    }
  }
  return [...out.values()];
})();

/** A kind's prober, with the path wrappers its description asks for. */
function withPaths(k: KindDescriptor, probe: Prober): Prober {
  const scheme = k.proxy?.scheme;
  let p = k.everyAddress ? perAddress(probe, scheme) : probe;
  if (k.proxy) p = k.proxy.compareDirect ? compareDirect(p, k.proxy.scheme) : withRoute(p, k.proxy.scheme);
  return p;
}

/**
 * The probers imported so far, by kind ({@link loadProbers}); tests add kinds of their own to
 * drive the engine.
 */
export const PROBERS: Record<string, Prober> = {};

/** Import the probers of these kinds (unknown kinds are left out: the engine reports them). */
export async function loadProbers(kinds: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(kinds)].map(async (name) => {
      const e = ENTRIES.find((x) => x.kind.name === name);
      if (e && !PROBERS[name]) PROBERS[name] = withPaths(e.kind, await e.load());
    }),
  );
}
