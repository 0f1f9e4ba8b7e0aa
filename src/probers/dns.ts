/**
 * dns: resolve a name (A and AAAA by default) through the system resolver's servers or an
 * explicit server. NXDOMAIN, SERVFAIL, refusal, silence and garbage are told apart; answers are
 * recorded, and compared with the addresses the document pairs with the name when it does.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DnsOptions } from '../kinds/dns.js';
import type { Prober, ProbeOutcome } from '../types.js';
import { parseCidr, cidrContains } from '../util/ip.js';
import { classify, errorCode } from '../net/classify.js';
import { ms, resolverInUse } from '../net/target.js';
import { because } from '../reasons.js';

type RecordType = 'A' | 'AAAA';

export const dns: Prober<DnsOptions> = async (spec, ctx) => {
  const types: RecordType[] = spec.options.types ?? ['A', 'AAAA'];
  // One try, with the whole deadline: c-ares would otherwise retry and overrun it.
  const resolver = new Resolver({ timeout: Math.max(50, spec.timeoutMs - 50), tries: 1 });
  if (ctx.dnsServers?.length) resolver.setServers(ctx.dnsServers);
  const servers = resolver.getServers();
  const onAbort = (): void => resolver.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const t0 = performance.now();
  try {
    const settled = await Promise.allSettled(
      types.map((t) => (t === 'A' ? resolver.resolve4(spec.host, { ttl: true }) : resolver.resolve6(spec.host, { ttl: true }))),
    );
    const resolveMs = ms(performance.now() - t0);
    const answers: Record<string, { address: string; ttl: number }[]> = {};
    const errors: Record<string, string> = {};
    settled.forEach((r, i) => {
      const t = types[i]!;
      if (r.status === 'fulfilled') answers[t] = r.value;
      else errors[t] = errorCode(r.reason) ?? 'UNKNOWN';
    });
    const addresses = Object.values(answers).flat().map((a) => a.address);
    const data: Record<string, unknown> = { servers, resolver: { ...resolverInUse(ctx), servers }, answers, ...(Object.keys(errors).length ? { errors } : {}) };
    if (addresses.length > 0) {
      const drift = driftOf(spec.options.expectAddresses, addresses);
      if (drift) {
        // Not `ok`: the answer is not the one the document gives (a DNS filter's block page, or a
        // moved name), and rules built from the document would not let that traffic through.
        return {
          ...because('DNS_DRIFT'),
          detail: `resolves, but ${drift.join(', ')} ${drift.length === 1 ? 'is' : 'are'} not among the addresses the document gives for ${spec.host}`,
          phases: { resolveMs },
          data: { ...data, drift },
        };
      }
      return { ...because('RESOLVED'), detail: `${addresses.length} address(es): ${addresses.slice(0, 4).join(', ')}${addresses.length > 4 ? ', …' : ''}`, phases: { resolveMs }, data };
    }
    if (ctx.signal.aborted) {
      return { ...because('DNS_TIMEOUT', 'filtered'), detail: `no DNS answer within ${spec.timeoutMs}ms`, phases: { resolveMs }, data };
    }
    // Every type failed: report the most telling error (a hard answer beats "no data").
    const codes = Object.values(errors);
    const pick = ['ENOTFOUND', 'ESERVFAIL', 'EREFUSED', 'ECONNREFUSED', 'EBADRESP', 'ETIMEOUT', 'EFORMERR'].find((c) => codes.includes(c)) ?? codes[0];
    const o: ProbeOutcome = classify(pick, 'dns');
    return { ...o, phases: { resolveMs }, data };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    resolver.cancel();
  }
};

/** Addresses that fall outside every address or range the document pairs with the name. */
function driftOf(expected: string[] | undefined, got: string[]): string[] | undefined {
  if (!expected?.length) return undefined;
  const ranges = expected.map((e) => parseCidr(e));
  const out = got.filter((a) => isIP(a) !== 0 && !ranges.some((r) => cidrContains(r, a)));
  return out.length ? out : undefined;
}

