/**
 * The fix list: what a report asks of the network team, as one list (issue 16). For exactly the
 * failing and partial lines, the firewall rules that would let their failed probes through —
 * merged per line into addresses/ranges × ports × protocol, each with its document line — and,
 * for failures no rule can fix (DNS drift, TLS inspection, proxy refusals, stalls, …), a short
 * instruction of their own. Rules have the shape `netcheck allowlist` uses (src/allowlist/), so
 * `netcheck allowlist --from-report` renders them as nftables, iptables or CSV with the same code.
 *
 * Pure: a function of the plan (whole ranges, quotes) and the finished lines and probe results.
 */
import { isIP } from 'node:net';
import type { Plan, PlanLine } from '../catalog/expand.js';
import { collapseCidrs } from '../allowlist/rules.js';
import { PORT_RULE_KINDS, protocolOf } from '../probers/index.js';
import type { AllowRule, FixCode, FixInstruction, FixList, LineResult, ProbeResult, Status, TimerResult } from '../types.js';
import { formatDuration } from '../util/duration.js';
import { formatPorts, hostPort } from '../util/ip.js';
import { CONTENT_REASONS, PROXY_REASONS } from './trust-remediation.js';

/** Statuses that say the packets did not get through: a rule can fix these. */
const BLOCKED: ReadonlySet<Status> = new Set(['refused', 'unreachable', 'filtered', 'open|filtered']);

type Classified = { rule: true; protocol: 'tcp' | 'udp'; dest: string; port: number } | { rule: false; code: FixCode };

/** What kind of fix a probe that did not pass needs; undefined when it needs none. */
function classify(p: ProbeResult): Classified | undefined {
  if (p.reason === 'DNS_DRIFT') return { rule: false, code: 'DNS_DRIFT' };
  if (p.status === 'ok' || p.status === 'skipped') return undefined;
  if (p.reason === 'DNS_INTERCEPTED') return { rule: false, code: 'DNS_INTERCEPTION' };
  if (p.kind === 'dns') return { rule: false, code: 'DNS_FAILURE' };
  if (p.reason === 'TLS_INTERCEPTED') return { rule: false, code: 'TLS_INSPECTION' };
  // Issue 17: large packets lost without ICMP, and media that gets through below its quality
  // thresholds, are not blocked ports: a port rule fixes neither.
  if (p.reason === 'PMTU_BLACKHOLE') return { rule: false, code: 'PATH_MTU' };
  if (p.kind === 'media' && Number(p.data?.received) > 0) return { rule: false, code: 'MEDIA_QUALITY' };
  if (PROXY_REASONS.has(p.reason)) return { rule: false, code: 'PROXY' };
  if (p.reason === 'HTTP_BLOCK_PAGE' || p.reason === 'HTTP_BLOCKED') return { rule: false, code: 'WEB_FILTER' };
  if (p.reason.startsWith('WS_DROPPED')) return { rule: false, code: 'STALLED' };
  if (CONTENT_REASONS.test(p.reason)) return { rule: false, code: 'SERVICE' };
  if (p.status === 'timeout') return { rule: false, code: 'STALLED' };
  if (BLOCKED.has(p.status) && p.port !== undefined && PORT_RULE_KINDS.has(p.kind)) {
    // A sampled address stands for its whole documented range: the rule names the range.
    return { rule: true, protocol: protocolOf(p.kind), dest: p.sampledFrom ?? p.host, port: p.port };
  }
  return { rule: false, code: 'LOCAL' };
}

function where(p: ProbeResult): string {
  const url = p.data?.url;
  if (typeof url === 'string' && url) return url;
  return p.kind === 'dns' || p.port === undefined ? p.host : hostPort(p.host, p.port);
}

function list(xs: string[], max = 6): string {
  const all = [...new Set(xs)];
  return all.slice(0, max).join(', ') + (all.length > max ? ` and ${all.length - max} more` : '');
}

/** The short instruction for one line's failures of one code. */
function instructionText(code: FixCode, ps: ProbeResult[], pl: PlanLine | undefined, publisher: string): string {
  const targets = list(ps.map(where));
  const reasons = list(ps.map((p) => p.reason), 4);
  switch (code) {
    case 'DNS_DRIFT': {
      const drift = list(ps.flatMap((p) => (Array.isArray(p.data?.drift) ? (p.data.drift as unknown[]).map(String) : [])));
      const expected = list(pl?.def.checks.flatMap((c) => (Array.isArray(c.expectAddresses) ? (c.expectAddresses as unknown[]).map(String) : [])) ?? []);
      return `${list(ps.map((p) => p.host))} resolves here to ${drift || 'addresses'} outside what the document pairs it with${expected ? ` (${expected})` : ''}: a DNS filter may be answering for it (check the resolver in use), or the addresses changed; an address-based rule from the document would block it, so allow it by name on the proxy or ask ${publisher} for the current addresses.`;
    }
    case 'DNS_FAILURE':
      return `${targets} ${ps.length === 1 ? 'does' : 'do'} not resolve from this network (${reasons}): check the DNS servers in use and any DNS filtering; no port rule fixes this.`;
    case 'DNS_INTERCEPTION':
      return `The resolver in use answers for names that do not exist, and ${list(ps.map((p) => p.host))} resolved to its own address, not the vendor's: use a resolver that answers NXDOMAIN for unknown names (--dns-server) or have the vendor's names exempted from DNS filtering; no port rule fixes this.`;
    case 'PATH_MTU':
      return `Small exchanges with ${targets} pass but large ones are lost, and no ICMP "fragmentation needed" comes back (a path-MTU black hole): let ICMP type 3 code 4 (ICMPv6 packet too big) through the firewall, or clamp the TCP MSS on the egress; the port itself is open.`;
    case 'MEDIA_QUALITY':
      return `Media to ${targets} gets through, but ${list(ps.map((p) => p.detail ?? p.reason), 2)}: look at congestion, Wi-Fi and QoS (prioritise the vendor's UDP ports); no port rule fixes this.`;
    case 'TLS_INSPECTION': {
      const product = ps.map((p) => p.data?.inspectionProduct).find((x): x is string => typeof x === 'string');
      return `TLS to ${targets} is re-signed by ${product ?? 'a middlebox'} (TLS inspection): exempt these destinations from inspection; opening a port does not help.`;
    }
    case 'PROXY':
      return `The proxy does not carry ${targets} (${reasons}): allow these destinations on the proxy${ps.some((p) => p.reason === 'PROXY_AUTH_REQUIRED') ? ', or give the client proxy credentials' : ''}.`;
    case 'WEB_FILTER':
      return `A web filter answers ${targets} with a block page: allow these destinations on the web filter.`;
    case 'STALLED':
      return ps.some((p) => p.reason.startsWith('WS_DROPPED'))
        ? `Long-lived connections to ${targets} are dropped (${reasons}): raise the idle/session timeout of the firewall or proxy for these destinations; the port itself is open.`
        : `Connections to ${targets} open but then stall (${reasons}): look for a proxy, DPI or IPS device interfering; the port itself is open.`;
    case 'SERVICE':
      return `${targets} answered, but ${list(ps.map((p) => p.detail ?? p.reason), 2)}: the path is open; this is for the service's owner (or this machine's clock), not the firewall.`;
    case 'LOCAL':
      return `${targets}: ${list(ps.map((p) => p.detail ?? p.reason), 2)} (${reasons}): no port rule fixes this; see the probe detail.`;
  }
}

const CODE_ORDER: FixCode[] = ['DNS_DRIFT', 'DNS_FAILURE', 'DNS_INTERCEPTION', 'TLS_INSPECTION', 'PROXY', 'WEB_FILTER', 'PATH_MTU', 'STALLED', 'MEDIA_QUALITY', 'SERVICE', 'LOCAL'];

/**
 * The fix list of a finished run, or undefined when there is nothing to ask for. Rules only for
 * lines whose verdict is `fail` or `partial`; instructions for those lines' other failures, for
 * DNS drift wherever it was seen, and for idle timers shorter than the document requires.
 */
export function buildFixList(plan: Plan, lines: LineResult[], results: ProbeResult[], timers: TimerResult[] = []): FixList | undefined {
  const planLine = new Map(plan.lines.map((l) => [l.id, l]));
  const byLine = new Map<string, ProbeResult[]>();
  for (const r of results) {
    const rs = byLine.get(r.line);
    if (rs) rs.push(r);
    else byLine.set(r.line, [r]);
  }
  const publisher = plan.catalog.document?.publisher ?? plan.catalog.vendor ?? 'the vendor';
  const rules: AllowRule[] = [];
  const instructions: FixInstruction[] = [];

  for (const l of lines) {
    const failing = l.verdict === 'fail' || l.verdict === 'partial';
    const pl = planLine.get(l.id);
    const ports = new Map<'tcp' | 'udp', Map<string, Set<number>>>();
    const other = new Map<FixCode, ProbeResult[]>();
    for (const p of byLine.get(l.id) ?? []) {
      const c = classify(p);
      if (!c) continue;
      // DNS drift is asked about even on a passing line: the document's addresses do not cover it.
      if (!failing && !(c.rule === false && c.code === 'DNS_DRIFT')) continue;
      if (c.rule) {
        const byDest = ports.get(c.protocol) ?? new Map<string, Set<number>>();
        byDest.set(c.dest, (byDest.get(c.dest) ?? new Set()).add(c.port));
        ports.set(c.protocol, byDest);
      } else {
        const same = other.get(c.code);
        if (same) same.push(p);
        else other.set(c.code, [p]);
      }
    }
    // Merge: destinations that failed on the same ports share one rule.
    for (const [protocol, byDest] of ports) {
      const groups = new Map<string, { ports: number[]; dests: string[] }>();
      for (const [dest, set] of byDest) {
        const ps = [...set].sort((a, b) => a - b);
        const key = ps.join(',');
        const g = groups.get(key) ?? { ports: ps, dests: [] };
        g.dests.push(dest);
        groups.set(key, g);
      }
      for (const g of groups.values()) {
        const addresses = collapseCidrs(g.dests.filter((d) => d.includes('/') || isIP(d) !== 0));
        rules.push({
          catalog: plan.catalog.id,
          line: l.id,
          section: l.section,
          description: l.description,
          direction: 'outbound',
          protocol,
          ports: g.ports,
          v4: addresses.filter((a) => isIP(a.split('/')[0]!) === 4),
          v6: addresses.filter((a) => isIP(a.split('/')[0]!) === 6),
          names: g.dests.filter((d) => !d.includes('/') && isIP(d) === 0),
          source: l.source,
          ...(l.quote ? { quote: l.quote } : {}),
          ...(l.condition ? { condition: l.condition } : {}),
        });
      }
    }
    for (const code of CODE_ORDER) {
      const ps = other.get(code);
      if (!ps) continue;
      instructions.push({
        line: l.id,
        description: l.description,
        code,
        targets: [...new Set(ps.map(where))],
        text: instructionText(code, ps, pl, publisher),
        ...(l.quote ? { quote: l.quote } : {}),
      });
    }
  }

  // A path that forgets idle flows sooner than the document requires: a timeout setting, not a port.
  for (const t of timers) {
    if (!t.checked || t.verdict !== 'fail') continue;
    const need = formatDuration(t.requireMs ?? t.seconds * 1000);
    instructions.push({
      line: `timers/${t.id}`,
      description: t.description,
      code: 'STALLED',
      targets: t.target ? [t.target] : [],
      text: `${t.bracket?.text ?? `idle ${t.protocol.toUpperCase()} flows are forgotten too soon`}; the document requires ${need}: raise the firewall's idle ${t.protocol.toUpperCase()} timeout${t.protocol === 'tcp' ? ' (established connections)' : ''} to at least ${need} for the vendor's addresses.`,
    });
  }
  return rules.length || instructions.length ? { rules, instructions } : undefined;
}

/** One rule as a sentence: "outbound TCP 443 to 17.0.0.0/8". */
export function ruleSummary(r: AllowRule): string {
  const dests = [...r.v4, ...r.v6, ...r.names];
  return `${r.direction} ${r.protocol.toUpperCase()} ${formatPorts(r.ports)} ${r.direction === 'outbound' ? 'to' : 'from'} ${dests.join(', ')}`;
}
