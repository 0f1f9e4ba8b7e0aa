import { isIP } from 'node:net';
import { matchAddresses, type MatchResult } from '../../allowlist/match.js';
import { builtinNames, loadCatalog } from '../../catalog/builtin.js';
import { EXIT, UsageError } from '../../errors.js';
import { hostPort } from '../../util/ip.js';
import { ipRangesFromArgv } from '../ipRanges.js';

/**
 * `netcheck match <ip>…`: which documented lines cover each address (every built-in catalog unless
 * --catalog narrows it). Exit 0 when every address is covered, 1 when one is not. Sends nothing.
 */
export async function matchCommand({ addresses, argv }: { addresses: string[]; argv: Record<string, unknown> }): Promise<number> {
  if (addresses.length === 0) throw new UsageError('match needs at least one address (e.g. netcheck match 52.6.58.86)');
  for (const a of addresses) {
    if (isIP(a) === 0) throw new UsageError(`'${a}' is not an IP address; match takes addresses as they appear in a firewall log (e.g. netcheck match 52.6.58.86)`);
  }
  const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String));
  const names = list(argv.catalog) ?? builtinNames();
  const catalogs = names.map((n) => loadCatalog(n));
  const aws = await ipRangesFromArgv(argv);
  const params: Record<string, string> = {};
  for (const p of list(argv.param) ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param '${p}': use NAME=VALUE, e.g. --param office-ips=office.txt`);
    const name = p.slice(0, eq);
    if (!catalogs.some((c) => c.def.parameters?.[name])) {
      throw new UsageError(`--param ${name}: none of the catalogs searched (${catalogs.map((c) => c.def.id).join(', ')}) has a parameter '${name}'`);
    }
    params[name] = p.slice(eq + 1);
  }
  const results = matchAddresses(addresses, catalogs, aws, params);
  if (argv.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  else process.stdout.write(renderMatches(results, catalogs.map((c) => c.def.id), !!aws));
  return results.every((r) => r.matches.length > 0) ? EXIT.OK : EXIT.FAILED;
}

function renderMatches(results: MatchResult[], catalogs: string[], aws: boolean): string {
  const out: string[] = [];
  for (const r of results) {
    if (r.matches.length === 0) {
      out.push(`${r.address}: no documented line covers it (catalogs: ${catalogs.join(', ')}${aws ? '' : '; AWS ranges not consulted: pass --ip-ranges FILE'})`);
      continue;
    }
    out.push(`${r.address}:`);
    for (const m of r.matches) {
      const what = [m.direction, m.protocol?.toUpperCase(), m.ports].filter(Boolean).join(' ');
      out.push(`  ${m.catalog} ${m.line} — ${m.description} [${what}] in ${m.aws ? `${m.range} (${m.aws.service}, ${m.aws.region}, ${m.aws.file})` : hostPort(m.range)}${m.condition ? ` (${m.condition})` : ''} · ${m.source}`);
      if (m.quote) out.push(`      "${m.quote}"`);
    }
  }
  return out.join('\n') + '\n';
}
