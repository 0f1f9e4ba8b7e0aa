/**
 * The registry of probe kinds: the only list of them. Adding a kind = a file in this folder that
 * exports its prober and its `kind` description (./kind.ts), a line here, and a test. Every other
 * list of kinds — the catalog's per-kind options, which kinds take ports or URLs, which are UDP,
 * which measure timers, which a proxy carries, the `probe` command's flags — is derived below.
 *
 * The prober files are cheap to import: each loads its heavy libraries (undici, ws, the X.509
 * stack) when a probe of its kind runs, so a TCP sweep never loads them.
 */
import type { ProbeSpec, Prober } from '../types.js';
import { kind as crl } from './crl.js';
import { kind as dns } from './dns.js';
import { kind as http } from './http.js';
import { kind as ipList } from './ipList.js';
import { kind as media } from './media.js';
import { kind as nat } from './nat.js';
import type { JsonSchema, KindDescriptor, ProbeFlag, ProxyScheme } from './kind.js';
import { kind as ocsp } from './ocsp.js';
import { compareDirect, perAddress, withRoute } from './paths.js';
import { kind as stun } from './stun.js';
import { kind as tcpIdle } from './tcp-idle.js';
import { kind as tcp } from './tcp.js';
import { kind as tls } from './tls.js';
import { kind as udpIdle } from './udp-idle.js';
import { kind as udp } from './udp.js';
import { kind as wsHold } from './ws-hold.js';
import { kind as wsIdle } from './ws-idle.js';

export type { KindDescriptor, ProbeFlag } from './kind.js';

/** Every probe kind, in the order help and errors list them. */
export const KIND_LIST: readonly KindDescriptor[] = [tcp, udp, dns, http, tls, ocsp, crl, stun, ipList, tcpIdle, udpIdle, wsIdle, wsHold, media, nat];

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
export const CHECK_OPTION_SCHEMAS: Readonly<Record<string, Readonly<Record<string, JsonSchema>>>> = Object.fromEntries(KIND_LIST.map((k) => [k.name, k.options]));

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

/** The prober of each kind, with the path wrappers its description asks for. */
function withPaths(k: KindDescriptor): Prober {
  const scheme = k.proxy?.scheme;
  let p = k.everyAddress ? perAddress(k.probe, scheme) : k.probe;
  if (k.proxy) p = k.proxy.compareDirect ? compareDirect(p, k.proxy.scheme) : withRoute(p, k.proxy.scheme);
  return p;
}

/** The prober of every kind, by name (tests add kinds of their own to drive the engine). */
export const PROBERS: Record<string, Prober> = Object.fromEntries(KIND_LIST.map((k) => [k.name, withPaths(k)]));
