/**
 * Allowlist renderers: pure functions of an {@link Allowlist}. Every rule carries its document line
 * (a comment above it, and a short rule comment naming catalog and line id).
 *
 * nftables: chains `<prefix>_outbound` and `<prefix>_inbound` inside `table inet <table>`. Loading it
 * with `nft -f` adds the chains to an existing table of that name (or creates it); jump to them from
 * your forward chain. iptables-restore: user chains NETCHECK-OUT / NETCHECK-IN in `*filter`, IPv4
 * only (`ip6tables` is the same for IPv6), to reference from FORWARD the same way.
 */
import { formatPorts } from '../util/ip.js';
import type { Allowlist, AllowRule } from './rules.js';

export const ALLOWLIST_FORMATS = ['csv', 'json', 'nft', 'iptables', 'ip6tables'] as const;
export type AllowlistFormat = (typeof ALLOWLIST_FORMATS)[number];

export interface RenderOptions {
  /** nftables table name (family inet). */
  nftTable?: string;
  /** Chain name prefix. */
  chainPrefix?: string;
}

/** A one-line, quote-free comment (nft and iptables both take at most 128 bytes, and no double quotes). */
function ruleComment(r: AllowRule): string {
  return `${r.catalog} ${r.line}`.replace(/["\\]/g, '').slice(0, 120);
}

function header(a: Allowlist, mark: string): string[] {
  const params = Object.entries(a.parameters).map(([k, v]) => `--${k} ${v}`).join(' ');
  const out = [
    `${mark} netcheck allowlist: ${a.catalog.title} (catalog ${a.catalog.id}; source ${a.catalog.source})`,
    ...(a.origin ? [`${mark} ${a.origin}`] : []),
    ...(params ? [`${mark} parameters: ${params}`] : []),
  ];
  for (const n of a.notes) out.push(`${mark} ${n.line}: ${n.reason}`);
  return out;
}

function lineComment(r: AllowRule, mark: string, indent: string): string[] {
  const out = [`${indent}${mark} ${r.line} (${r.direction}) ${r.description}${r.condition ? ` [${r.condition}]` : ''} (${r.source})`];
  if (r.quote) out.push(`${indent}${mark}   "${r.quote.replace(/\s+/g, ' ')}"`);
  if (r.from) out.push(`${indent}${mark}   addresses from ${r.from}`);
  return out;
}

function namesComment(r: AllowRule, mark: string, indent: string): string[] {
  if (r.names.length === 0) return [];
  const verb = r.direction === 'outbound' ? 'to' : 'from';
  return [
    `${indent}${mark}   by name (a packet filter cannot match names: allow on your proxy, or resolve them): ${r.protocol.toUpperCase()} ${formatPorts(r.ports)} ${verb} ${r.names.join(', ')}`,
  ];
}

export function renderJson(a: Allowlist): string {
  return JSON.stringify(a, null, 2) + '\n';
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One row per address or name, so a spreadsheet can sort and filter. */
export function renderCsv(a: Allowlist): string {
  const rows = [['catalog', 'line', 'direction', 'protocol', 'ports', 'type', 'address', 'section', 'description', 'source', 'quote', 'from']];
  for (const r of a.rules) {
    const base = (type: string, address: string): string[] => [
      r.catalog, r.line, r.direction, r.protocol, formatPorts(r.ports), type, address, r.section, r.description, r.source, r.quote ?? '', r.from ?? '',
    ];
    for (const x of [...r.v4, ...r.v6]) rows.push(base('address', x));
    for (const n of r.names) rows.push(base('name', n));
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

export function renderNft(a: Allowlist, o: RenderOptions = {}): string {
  const table = o.nftTable ?? 'filter';
  const prefix = o.chainPrefix ?? 'netcheck';
  const out = header(a, '#');
  out.push(
    `# Load with: nft -f FILE (adds the chains to table inet ${table}). Then send traffic through them,`,
    `# e.g. in your forward chain:  oifname "wan0" jump ${prefix}_outbound   and   iifname "wan0" jump ${prefix}_inbound`,
    `table inet ${table} {`,
  );
  for (const dir of ['outbound', 'inbound'] as const) {
    out.push(`  chain ${prefix}_${dir} {`);
    for (const r of a.rules.filter((x) => x.direction === dir)) {
      out.push(...lineComment(r, '#', '    '));
      const addrKey = dir === 'outbound' ? 'daddr' : 'saddr';
      const ports = formatPorts(r.ports).split(',').join(', ');
      for (const [fam, list] of [['ip', r.v4], ['ip6', r.v6]] as const) {
        if (list.length === 0) continue;
        out.push(`    ${fam} ${addrKey} { ${list.join(', ')} } ${r.protocol} dport { ${ports} } accept comment "${ruleComment(r)}"`);
      }
      out.push(...namesComment(r, '#', '    '));
    }
    out.push('  }');
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/** iptables `multiport` takes at most 15 ports, a range counting as two. */
function multiportChunks(ports: number[]): string[] {
  const parts = formatPorts(ports).split(',').map((p) => p.replace('-', ':'));
  const chunks: string[] = [];
  let cur: string[] = [];
  let weight = 0;
  for (const p of parts) {
    const w = p.includes(':') ? 2 : 1;
    if (weight + w > 15) {
      chunks.push(cur.join(','));
      cur = [];
      weight = 0;
    }
    cur.push(p);
    weight += w;
  }
  if (cur.length) chunks.push(cur.join(','));
  return chunks;
}

export function renderIptables(a: Allowlist, family: 4 | 6, o: RenderOptions = {}): string {
  const prefix = (o.chainPrefix ?? 'netcheck').toUpperCase();
  const chain = { outbound: `${prefix}-OUT`, inbound: `${prefix}-IN` };
  const tool = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
  const out = header(a, '#');
  const otherCount = a.rules.reduce((n, r) => n + (family === 4 ? r.v6.length : r.v4.length), 0);
  if (otherCount) out.push(`# ${otherCount} IPv${family === 4 ? 6 : 4} address(es) are not here: use --format ${family === 4 ? 'ip6tables' : 'iptables'}`);
  out.push(
    `# Load with: ${tool} --noflush FILE. Then send traffic through the chains, e.g.`,
    `#   -A FORWARD -o wan0 -j ${chain.outbound}   and   -A FORWARD -i wan0 -j ${chain.inbound}`,
    '*filter',
    `:${chain.outbound} - [0:0]`,
    `:${chain.inbound} - [0:0]`,
  );
  for (const r of a.rules) {
    out.push(...lineComment(r, '#', ''));
    const flag = r.direction === 'outbound' ? '-d' : '-s';
    for (const addr of family === 4 ? r.v4 : r.v6) {
      for (const ports of multiportChunks(r.ports)) {
        const match = ports.includes(',') ? `-m multiport --dports ${ports}` : `--dport ${ports}`;
        out.push(`-A ${chain[r.direction]} ${flag} ${addr} -p ${r.protocol} ${match} -m comment --comment "${ruleComment(r)}" -j ACCEPT`);
      }
    }
    out.push(...namesComment(r, '#', ''));
  }
  out.push('COMMIT');
  return out.join('\n') + '\n';
}

export function renderAllowlist(a: Allowlist, format: AllowlistFormat, o: RenderOptions = {}): string {
  switch (format) {
    case 'csv':
      return renderCsv(a);
    case 'json':
      return renderJson(a);
    case 'nft':
      return renderNft(a, o);
    case 'iptables':
      return renderIptables(a, 4, o);
    case 'ip6tables':
      return renderIptables(a, 6, o);
  }
}
