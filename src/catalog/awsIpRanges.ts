/**
 * Amazon's published address ranges (ip-ranges.json, https://ip-ranges.amazonaws.com/ip-ranges.json)
 * as a target source for catalogs (`targetsFrom.awsIpRanges`) and for `netcheck match`.
 *
 * The file is read strictly: a malformed one is one {@link CatalogError} naming the file and the key
 * (exit 2), never a half-used list. Downloading lives in ./awsFetch.ts and only runs when the user
 * asks for it (`--fetch-ip-ranges`), so nothing here touches the network.
 */
import { readFileSync } from 'node:fs';
import { CatalogError } from '../errors.js';
import { parseCidr, type Cidr } from '../util/ip.js';

/** Amazon's published address list. */
export const AWS_IP_RANGES_URL = 'https://ip-ranges.amazonaws.com/ip-ranges.json';

/** One prefix of ip-ranges.json (IPv4 `prefixes` and IPv6 `ipv6_prefixes` share this shape here). */
export interface AwsPrefix {
  cidr: string;
  region: string;
  service: string;
  networkBorderGroup?: string;
}

export interface AwsIpRanges {
  /** File the list came from (for messages and reports). */
  file: string;
  syncToken?: string;
  createDate?: string;
  prefixes: AwsPrefix[];
}

/** Read and validate an ip-ranges.json file. */
export function loadAwsIpRanges(path: string, displayName = path): AwsIpRanges {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CatalogError('ip-ranges', { file: displayName }, `cannot read ip-ranges file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseAwsIpRanges(text, displayName);
}

/** Validate ip-ranges.json text in Amazon's published format. `file` is only used in messages. */
export function parseAwsIpRanges(text: string, file: string): AwsIpRanges {
  const fail = (key: string | undefined, message: string): never => {
    throw new CatalogError('ip-ranges', { file, ...(key ? { key } : {}) }, message);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return fail(undefined, `not valid JSON (${(err as Error).message}); expected Amazon's ip-ranges.json format`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return fail(undefined, `expected a JSON object with 'prefixes' and 'ipv6_prefixes' (Amazon's ip-ranges.json format)`);
  }
  const obj = data as Record<string, unknown>;
  if (!Array.isArray(obj.prefixes)) fail('prefixes', obj.prefixes === undefined ? `missing key 'prefixes'` : 'expected a list');
  if (obj.ipv6_prefixes !== undefined && !Array.isArray(obj.ipv6_prefixes)) fail('ipv6_prefixes', 'expected a list');
  const out: AwsPrefix[] = [];
  const read = (list: unknown[], listKey: 'prefixes' | 'ipv6_prefixes', cidrKey: 'ip_prefix' | 'ipv6_prefix', family: 4 | 6): void => {
    list.forEach((item, i) => {
      const at = `${listKey}[${i}]`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) fail(at, 'expected an object with ' + `${cidrKey}, region, service`);
      const e = item as Record<string, unknown>;
      for (const k of [cidrKey, 'region', 'service']) {
        if (typeof e[k] !== 'string' || (e[k] as string).length === 0) fail(`${at}.${k}`, e[k] === undefined ? `missing key '${k}'` : 'expected a non-empty string');
      }
      let c: Cidr;
      try {
        c = parseCidr(e[cidrKey] as string);
      } catch (err) {
        return fail(`${at}.${cidrKey}`, (err as Error).message);
      }
      if (c.family !== family || !(e[cidrKey] as string).includes('/')) {
        fail(`${at}.${cidrKey}`, `'${String(e[cidrKey])}' is not an IPv${family} CIDR range`);
      }
      out.push({
        cidr: c.text,
        region: e.region as string,
        service: e.service as string,
        ...(typeof e.network_border_group === 'string' ? { networkBorderGroup: e.network_border_group } : {}),
      });
    });
  };
  read(obj.prefixes as unknown[], 'prefixes', 'ip_prefix', 4);
  read((obj.ipv6_prefixes as unknown[] | undefined) ?? [], 'ipv6_prefixes', 'ipv6_prefix', 6);
  return {
    file,
    ...(typeof obj.syncToken === 'string' ? { syncToken: obj.syncToken } : {}),
    ...(typeof obj.createDate === 'string' ? { createDate: obj.createDate } : {}),
    prefixes: out,
  };
}

/**
 * The prefixes of the given services, in `region` when given. CloudFront is a global service:
 * Amazon lists its edge prefixes under region `GLOBAL`, so those always count.
 */
export function filterAwsPrefixes(r: AwsIpRanges, services: string[], region?: string): AwsPrefix[] {
  const wanted = new Set(services);
  const seen = new Set<string>();
  const out: AwsPrefix[] = [];
  for (const p of r.prefixes) {
    if (!wanted.has(p.service)) continue;
    if (region && p.region !== region && p.region !== 'GLOBAL') continue;
    if (seen.has(p.cidr)) continue;
    seen.add(p.cidr);
    out.push(p);
  }
  return out;
}

/** Regions present in the file (for "no such region" messages). */
export function awsRegions(r: AwsIpRanges): string[] {
  return [...new Set(r.prefixes.map((p) => p.region))].sort();
}
