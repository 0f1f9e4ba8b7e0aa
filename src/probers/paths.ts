/**
 * Path wrappers the registry applies to connection-oriented kinds (issue 4):
 *
 * - {@link perAddress}: a name that resolves to several addresses is probed on every one of them
 *   (a client may use any), with per-address and per-family results; `-4` / `-6` exclude IP
 *   literals of the other family; ENETUNREACH on IPv6 when this host has no IPv6 route at all is
 *   `skipped` (NO_IPV6_ROUTE): IPv6 is absent here, which is not a firewall failure.
 * - {@link compareDirect}: with `--compare-direct`, a probe that goes through a proxy also runs
 *   directly, and the direct outcome is attached as `data.direct`.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ProbeContext, ProbeOutcome, Prober, ResolvedAddress, Status } from '../types.js';
import { ipToBigInt } from '../util/ip.js';
import { proxyFor, routeData } from '../net/proxy.js';
import { lookupWithin, ms } from '../net/target.js';
import type { ProxyScheme, SchemeInput } from '../kinds/kind.js';
import { because } from '../reasons.js';

/** The scheme a proxy would see for a kind's probe (its descriptor's); none for kinds no proxy carries. */
export type SchemeOf = ((spec: SchemeInput) => ProxyScheme) | undefined;

/** A name resolving to more addresses than this is probed on the first ones only (and says so). */
export const MAX_ADDRESSES_PER_NAME = 16;

/** Worst first: the outcome a line's verdict should see when addresses disagree. */
const SEVERITY: Status[] = ['error', 'refused', 'unreachable', 'filtered', 'timeout', 'open|filtered', 'ok', 'skipped'];

/** Routes from /proc/net/ipv6_route: prefix, length, and whether the route rejects. */
function ipv6Routes(): { prefix: bigint; len: number; reject: boolean }[] | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/ipv6_route', 'utf8');
  } catch {
    return undefined;
  }
  const out: { prefix: bigint; len: number; reject: boolean }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const flags = parseInt(f[8]!, 16);
    out.push({ prefix: BigInt(`0x${f[0]}`), len: parseInt(f[1]!, 16), reject: (flags & 0x0200) !== 0 });
  }
  return out;
}

/**
 * Does this host have any (non-reject) IPv6 route covering `addr`? Unknown (not Linux) counts as
 * yes, so a real ICMPv6 "no route" from a router is never hidden as a skip.
 */
export function hasIpv6Route(addr: string, routes = ipv6Routes()): boolean {
  if (!routes) return true;
  const v = ipToBigInt(addr).value;
  return routes.some((r) => {
    if (r.reject) return false;
    const shift = BigInt(128 - r.len);
    return r.len === 0 || v >> shift === r.prefix >> shift;
  });
}

/** ENETUNREACH (or no IPv6 at all) towards an IPv6 address with no IPv6 route here → skipped. */
function noIpv6Route(o: ProbeOutcome, address: string): ProbeOutcome {
  if (isIP(address) !== 6) return o;
  const noV6Stack = o.reason === 'EAFNOSUPPORT';
  // A host without IPv6 fails with ENETUNREACH (an address but no route) or EADDRNOTAVAIL (no
  // address to send from); either way only when the routing table has no route there.
  if (!noV6Stack && !((o.reason === 'ENETUNREACH' || o.reason === 'EADDRNOTAVAIL') && !hasIpv6Route(address))) return o;
  return {
    ...o,
    ...because('NO_IPV6_ROUTE'),
    detail: noV6Stack
      ? `IPv6 is disabled on this host, so ${address} cannot be tried (not a firewall failure)`
      : `this host has no IPv6 route towards ${address}: IPv6 is not available on this network, so this path cannot be tested here (not a firewall failure)`,
  };
}

const FAMILY_NAME = { 4: 'IPv4', 6: 'IPv6' } as const;

/** Probe every address a name resolves to; see the module comment. */
export function perAddress(inner: Prober, schemeOf: SchemeOf): Prober {
  const byName = perName(inner);
  // Not async: an IP literal (every probe of a sweep) goes to the prober without another promise.
  return (spec, ctx) => {
    // Through a proxy, the proxy resolves the name and picks the address: nothing to fan out.
    if (ctx.proxy && schemeOf && proxyFor(ctx.proxy, schemeOf(spec), spec.host, spec.port)) return inner(spec, ctx);
    const literal = isIP(spec.host);
    if (literal === 0) return byName(spec, ctx);
    if (ctx.family && literal !== ctx.family) {
      return Promise.resolve({ ...because('FAMILY_EXCLUDED'), detail: `${spec.host} is an IPv${literal} address and this run is IPv${ctx.family}-only`, address: spec.host });
    }
    return literal === 6 ? inner(spec, ctx).then((o) => noIpv6Route(o, spec.host)) : inner(spec, ctx);
  };
}

function perName(inner: Prober): Prober {
  return async (spec, ctx) => {
    const t0 = performance.now();
    let all: ResolvedAddress[];
    try {
      all = await lookupWithin(ctx, spec.host);
    } catch {
      // The prober reports resolution failures in its usual way.
      return inner(spec, ctx);
    }
    const resolveMs = ms(performance.now() - t0);
    const seen = new Set<string>();
    const usable = (ctx.family ? all.filter((a) => a.family === ctx.family) : all).filter((a) => !seen.has(a.address) && !!seen.add(a.address));
    if (usable.length <= 1) {
      const o = await inner(spec, ctx);
      // The prober's own lookup hit the cache this one filled: the resolve phase it reports is the
      // time spent here, so that its phases still add up to the probe's duration (issue 16).
      const timed = o.phases?.resolveMs !== undefined ? { ...o, phases: { ...o.phases, resolveMs: ms(resolveMs + o.phases.resolveMs) } } : o;
      return usable[0] ? noIpv6Route(timed, usable[0].address) : timed;
    }
    const probed = usable.slice(0, MAX_ADDRESSES_PER_NAME);
    const outs = await Promise.all(
      probed.map(async (a) => {
        const one: ProbeContext = { ...ctx, lookup: (h) => (h === spec.host ? Promise.resolve([a]) : ctx.lookup(h)) };
        return { a, o: noIpv6Route(await inner(spec, one), a.address) };
      }),
    );
    const considered = outs.filter((x) => x.o.status !== 'skipped');
    const pool = considered.length ? considered : outs;
    const primary = [...pool].sort((x, y) => SEVERITY.indexOf(x.o.status) - SEVERITY.indexOf(y.o.status))[0]!;
    const families: Partial<Record<'ipv4' | 'ipv6', Status>> = {};
    for (const { a, o } of outs) {
      const k = a.family === 4 ? 'ipv4' : 'ipv6';
      const prev = families[k];
      if (!prev || SEVERITY.indexOf(o.status) < SEVERITY.indexOf(prev)) families[k] = o.status;
    }
    const mixed = new Set(outs.map((x) => x.o.status)).size > 1;
    const summary = outs.map(({ a, o }) => `${FAMILY_NAME[a.family]} ${a.address} ${o.status}`).join(', ');
    return {
      ...primary.o,
      detail: `${primary.o.detail ?? primary.o.reason}${mixed ? ` (${summary})` : ` (all ${outs.length} addresses)`}${usable.length > probed.length ? `; ${usable.length - probed.length} more addresses not probed` : ''}`,
      phases: { ...primary.o.phases, resolveMs },
      data: {
        ...primary.o.data,
        perAddress: outs.map(({ a, o }) => ({ address: a.address, family: a.family, status: o.status, reason: o.reason, ...(o.detail ? { detail: o.detail } : {}) })),
        families,
      },
    };
  };
}

/** With `--compare-direct`, also run a proxied probe directly and attach that outcome. */
export function compareDirect(inner: Prober, schemeOf: NonNullable<SchemeOf>): Prober {
  return async (spec, ctx) => {
    if (!ctx.proxy?.compareDirect || !proxyFor(ctx.proxy, schemeOf(spec), spec.host, spec.port)) return noteRoute(await inner(spec, ctx));
    const [via, direct] = await Promise.all([inner(spec, ctx).then(noteRoute), inner(spec, { ...ctx, proxy: undefined })]);
    const d = direct.data ?? {};
    return {
      ...via,
      detail: `${via.detail ?? via.reason}; direct: ${direct.status} ${direct.reason}`,
      data: {
        ...via.data,
        direct: {
          status: direct.status,
          reason: direct.reason,
          ...(direct.detail ? { detail: direct.detail } : {}),
          ...(direct.address ? { address: direct.address } : {}),
          ...(direct.phases ? { phases: direct.phases } : {}),
          ...('interception' in d ? { interception: d.interception, interceptionReasons: d.interceptionReasons } : {}),
          ...('level' in d ? { level: d.level } : {}),
          ...('httpStatus' in d ? { httpStatus: d.httpStatus } : {}),
        },
      },
    };
  };
}

/** Add `route` (direct, or proxy with the redacted proxy) to a kind's results (for kinds that do not add it themselves). */
export function withRoute(inner: Prober, schemeOf: NonNullable<SchemeOf>): Prober {
  return async (spec, ctx) => {
    const o = await inner(spec, ctx);
    return noteRoute({ ...o, data: { ...o.data, ...routeData(proxyFor(ctx.proxy, schemeOf(spec), spec.host, spec.port)) } });
  };
}

/** Text reports show only `detail`: say there which proxy a result went through (already redacted). */
function noteRoute(o: ProbeOutcome): ProbeOutcome {
  const proxy = o.data?.route === 'proxy' ? o.data.proxy : undefined;
  if (typeof proxy !== 'string' || (o.detail ?? '').includes(proxy)) return o;
  return { ...o, detail: `${o.detail ?? o.reason} (through proxy ${proxy})` };
}
