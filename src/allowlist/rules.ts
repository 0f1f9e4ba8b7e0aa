/**
 * The firewall rules a catalog implies: for every applicable documented line, who may connect to
 * whom on which protocol and ports, with every address of the line (whole ranges, never samples),
 * and the document line it comes from. Renderers (./render.ts) turn these into CSV, JSON, nftables
 * and iptables-restore text. Pure: works on a finished plan, sends nothing.
 */
import { isIP } from 'node:net';
import type { Plan, PlanLine } from '../catalog/expand.js';
import { portsOf } from '../catalog/load.js';
import { isUrlTarget, parseUrlTarget } from '../trust/url.js';
import type { AllowRule } from '../types.js';
import { parseCidr, parsePorts } from '../util/ip.js';
import { PORTED_KINDS, protocolOf, URL_KINDS } from '../probers/index.js';

/** One rule (defined with the Report types, which carry rules in their fix list). */
export type { AllowRule } from '../types.js';

export interface Allowlist {
  catalog: { id: string; title: string; source: string };
  /** What the rules were made from when not the whole catalog (e.g. a report's failing lines). */
  origin?: string;
  parameters: Record<string, string>;
  rules: AllowRule[];
  /** Documented lines that yield no rule here, and why. */
  notes: { line: string; reason: string }[];
}

/** Fold addresses: sort, drop duplicates and ranges inside an earlier, larger range. */
export function collapseCidrs(items: string[]): string[] {
  const parsed = [...new Set(items)].map((t) => parseCidr(t)).sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : a.prefix - b.prefix));
  const out: typeof parsed = [];
  for (const c of parsed) {
    const last = out[out.length - 1];
    if (last && last.family === c.family && c.base >= last.base && c.base + c.size <= last.base + last.size) continue;
    out.push(c);
  }
  return out.map((c) => c.text);
}

function lineTargets(pl: PlanLine, plan: Plan): { addresses: string[]; names: string[]; missing: string[]; from?: string } {
  const addresses: string[] = [];
  const names: string[] = [];
  const missing: string[] = [];
  const add = (t: string): void => {
    if (t.includes('/') || isIP(t) !== 0) addresses.push(t);
    else names.push(t.replace(/\.$/, ''));
  };
  for (const t of pl.def.targets) {
    if (isUrlTarget(t)) {
      // A URL (revocation endpoints): its host; the port is the URL's (lineProtocols).
      const u = parseUrlTarget(t);
      if (!('error' in u)) add(u.host);
      continue;
    }
    if (!t.startsWith('$')) {
      add(t);
      continue;
    }
    const name = t.slice(1);
    const v = plan.params[name];
    if (v === undefined) {
      missing.push(name);
      continue;
    }
    const list = pl.lists?.find((l) => l.param === name);
    if (list) list.entries.forEach((e) => add(e.value));
    else v.split(',').map((s) => s.trim()).filter(Boolean).forEach(add);
  }
  let from: string | undefined;
  if (pl.def.targetsFrom) {
    if (pl.awsRanges) {
      addresses.push(...pl.awsRanges.cidrs);
      from = `${pl.awsRanges.file}: ${pl.awsRanges.services.join('+')}${pl.awsRanges.region ? ` in ${pl.awsRanges.region} (and GLOBAL)` : ', every region'}`;
    } else missing.push('ip-ranges');
  }
  return { addresses, names, missing, ...(from ? { from } : {}) };
}

/** Protocol → ports of the line's checks that send packets. */
function lineProtocols(pl: PlanLine, params: Record<string, string>): Map<'tcp' | 'udp', number[]> | { missingPort: string } {
  const out = new Map<'tcp' | 'udp', number[]>();
  for (const c of pl.def.checks) {
    if (URL_KINDS.has(c.kind)) {
      const ports = pl.def.targets.map((t) => parseUrlTarget(t)).flatMap((u) => ('error' in u ? [] : [u.port]));
      out.set('tcp', [...new Set([...(out.get('tcp') ?? []), ...ports])].sort((a, b) => a - b));
      continue;
    }
    if (!PORTED_KINDS.has(c.kind)) continue;
    const value = c.ports ?? pl.def.ports;
    if (value === undefined) continue;
    let ports: number[];
    if (typeof value === 'string' && value.startsWith('$')) {
      const v = params[value.slice(1)];
      if (v === undefined) return { missingPort: value.slice(1) };
      ports = parsePorts(v);
    } else ports = portsOf(value);
    const proto = protocolOf(c.kind);
    out.set(proto, [...new Set([...(out.get(proto) ?? []), ...ports])].sort((a, b) => a - b));
  }
  return out;
}

/** Rules for every applicable line of a plan. */
export function buildAllowlist(plan: Plan): Allowlist {
  const rules: AllowRule[] = [];
  const notes: Allowlist['notes'] = plan.notApplicable.map((n) => ({ line: n.id, reason: `not applicable: ${n.reason}` }));
  for (const pl of plan.lines) {
    const protos = lineProtocols(pl, plan.params);
    if ('missingPort' in protos) {
      notes.push({ line: pl.id, reason: `no rule: parameter --${protos.missingPort} not set` });
      continue;
    }
    if (protos.size === 0) {
      notes.push({ line: pl.id, reason: `no rule: its checks (${pl.def.checks.map((c) => c.kind).join(', ')}) open no connection` });
      continue;
    }
    const t = lineTargets(pl, plan);
    if (t.addresses.length === 0 && t.names.length === 0) {
      const why = t.missing.map((m) => (m === 'ip-ranges' ? "Amazon's ip-ranges.json (--ip-ranges FILE)" : `--${m}`)).join(', ');
      notes.push({ line: pl.id, reason: `no rule: needs ${why || 'targets'}` });
      continue;
    }
    if (t.missing.length) notes.push({ line: pl.id, reason: `partial: ${t.missing.map((m) => (m === 'ip-ranges' ? '--ip-ranges FILE' : `--${m}`)).join(', ')} not given` });
    const collapsed = collapseCidrs(t.addresses);
    const v4 = collapsed.filter((a) => isIP(a.split('/')[0]!) === 4);
    const v6 = collapsed.filter((a) => isIP(a.split('/')[0]!) === 6);
    const dir = pl.def.direction ?? 'outbound';
    const directions: ('outbound' | 'inbound')[] = dir === 'both' ? ['outbound', 'inbound'] : [dir];
    for (const direction of directions) {
      for (const [protocol, ports] of protos) {
        rules.push({
          catalog: plan.catalog.id,
          line: pl.id,
          section: pl.section.id,
          description: pl.def.description,
          direction,
          protocol,
          ports,
          v4,
          v6,
          names: [...new Set(t.names)],
          source: pl.def.source ?? pl.section.source ?? plan.catalog.source,
          ...(pl.def.quote ? { quote: pl.def.quote } : {}),
          ...(pl.def.condition ? { condition: pl.def.condition } : {}),
          ...(t.from ? { from: t.from } : {}),
        });
      }
    }
  }
  return { catalog: { id: plan.catalog.id, title: plan.catalog.title, source: plan.catalog.source }, parameters: plan.params, rules, notes };
}
