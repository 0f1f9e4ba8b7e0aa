/**
 * Which documented line(s) cover an address: for reading firewall logs ("is 52.6.58.86 one of the
 * vendor's?"). Works on catalogs as written: literal addresses and ranges (a name's paired
 * addresses are among them), parameter lists the user gives (`--param office-ips=FILE`), and
 * Amazon's ranges for `targetsFrom.awsIpRanges` lines when an ip-ranges.json is given (every region
 * unless `--param aws-region=…`). Sends nothing.
 */
import { isIP } from 'node:net';
import { filterAwsPrefixes, type AwsIpRanges } from '../catalog/awsIpRanges.js';
import { readIpList } from '../catalog/ipList.js';
import type { LoadedCatalog } from '../catalog/load.js';
import type { PortsValue } from '../catalog/schema.js';
import { isUrlTarget } from '../trust/url.js';
import { cidrContains, formatPorts, parseCidr } from '../util/ip.js';
import { portsOf } from '../catalog/load.js';

export interface MatchHit {
  catalog: string;
  line: string;
  section: string;
  description: string;
  /** The documented address or range that covers the address. */
  range: string;
  direction: 'outbound' | 'inbound' | 'both';
  protocol?: string;
  /** Ports as documented (`$name` when a parameter). */
  ports?: string;
  source: string;
  quote?: string;
  condition?: string;
  /** For Amazon ranges: which prefix entry of ip-ranges.json. */
  aws?: { service: string; region: string; file: string };
}

export interface MatchResult {
  address: string;
  matches: MatchHit[];
}

function portsText(v: PortsValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && v.startsWith('$')) return v;
  try {
    return formatPorts(portsOf(v));
  } catch {
    return String(v);
  }
}

/**
 * Addresses a `$param` target stands for, when the user gave the parameter (`--param NAME=VALUE`):
 * a `file` parameter's list, or the addresses among a `hosts` value.
 */
function paramAddresses(cat: LoadedCatalog, ref: string, params: Record<string, string>): string[] {
  const name = ref.slice(1);
  const def = cat.def.parameters?.[name];
  const value = params[name];
  if (!def || value === undefined) return [];
  if (def.type === 'file') return readIpList(name, value).entries.map((e) => e.value);
  return value.split(',').map((v) => v.trim()).filter((v) => v.includes('/') || isIP(v) !== 0);
}

/**
 * Match every address against every line of the catalogs. `params` (optional) fills `$param`
 * targets, e.g. Commversion's `office-ips` file, and `aws-region` narrows Amazon's ranges.
 */
export function matchAddresses(addresses: string[], catalogs: LoadedCatalog[], aws?: AwsIpRanges, params: Record<string, string> = {}): MatchResult[] {
  return addresses.map((address) => {
    const matches: MatchHit[] = [];
    for (const cat of catalogs) {
      const def = cat.def;
      for (const section of def.sections) {
        for (const line of section.lines) {
          const ports = portsText(line.ports ?? line.checks.find((c) => c.ports !== undefined)?.ports);
          const base = {
            catalog: def.id,
            line: line.id,
            section: section.id,
            description: line.description,
            direction: line.direction ?? 'outbound',
            ...(line.protocol ? { protocol: line.protocol } : {}),
            ...(ports ? { ports } : {}),
            source: line.source ?? section.source ?? def.source,
            ...(line.quote ? { quote: line.quote } : {}),
            ...(line.condition ? { condition: line.condition } : line.when ? { condition: `when ${line.when.param} is ${line.when.equals}` } : {}),
          };
          const literal = new Set<string>();
          // Addresses and ranges only: names and URLs (revocation endpoints) have no address to match.
          for (const t of line.targets) {
            if (t.startsWith('$')) for (const a of paramAddresses(cat, t, params)) literal.add(a);
            else if (!isUrlTarget(t) && (t.includes('/') || isIP(t) !== 0)) literal.add(t);
          }
          let hit = false;
          for (const t of literal) {
            if (cidrContains(parseCidr(t), address)) {
              matches.push({ ...base, range: t });
              hit = true;
              break;
            }
          }
          const spec = line.targetsFrom?.awsIpRanges;
          if (!hit && spec && aws) {
            const region = spec.region?.startsWith('$') ? params[spec.region.slice(1)] : spec.region;
            const p = filterAwsPrefixes(aws, spec.services, region).find((x) => cidrContains(parseCidr(x.cidr), address));
            if (p) matches.push({ ...base, range: p.cidr, aws: { service: p.service, region: p.region, file: aws.file } });
          }
        }
      }
    }
    return { address, matches };
  });
}
