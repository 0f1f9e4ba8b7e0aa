/**
 * Options of the path findings (issue 17): `--trace`/`--no-trace`, `--portal-url`,
 * `--portal-expect`, `--dns-check`/`--no-dns-check`; and the reflector (`--reflector HOST` with
 * `--reflector-udp-port` / `--reflector-tcp-port`), which also serves the path-MTU and portal checks.
 */
import type { Argv } from 'yargs';
import type { Plan } from '../catalog/expand.js';
import { UsageError } from '../errors.js';
import { KNOWN_ANSWERS, parseExpectation } from '../path/findings.js';
import type { PathCheckOptions } from '../path/index.js';
import { REFLECTOR_DEFAULTS } from '../reflector/protocol.js';

/** Flags of this module (so they are not taken for catalog parameters). */
export const PATH_FLAGS = ['trace', 'portal-url', 'portal-expect', 'dns-check'] as const;

export function pathOptions<T>(y: Argv<T>) {
  return y
    .option('trace', { type: 'boolean', describe: 'trace the path of failed TCP/UDP lines with the OS traceroute, same protocol and port (default: on for catalogs, off for probe sweeps; --no-trace to skip)' })
    .option('portal-url', { type: 'string', describe: 'captive-portal check: a known-answer URL, e.g. http://connectivitycheck.gstatic.com/generate_204' })
    .option('portal-expect', { type: 'string', describe: 'what --portal-url must answer: a status (204), text (Success) or both (200:Success); known for common URLs' })
    .option('dns-check', { type: 'boolean', describe: 'ask the resolver for names that cannot exist, to find DNS interception (default: on when the catalog checks DNS)' });
}

function port(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new UsageError(`${flag} must be a port 1-65535 (e.g. ${flag} 7070)`);
  return v;
}

/**
 * The path options of a run. `trace` defaults on for catalog runs (failed lines are few), off for
 * sweeps (`probe`); the DNS check defaults on when the plan resolves names with `dns` checks,
 * so a run that asks no resolver anything does not start to.
 */
export function pathOptionsFromArgv(argv: Record<string, unknown>, o: { traceByDefault: boolean; plan?: Plan; quiet?: boolean }): PathCheckOptions {
  const out: PathCheckOptions = {};
  if (argv.trace ?? o.traceByDefault) out.trace = true;
  const dnsCheck = argv['dns-check'] ?? o.plan?.probes.some((p) => p.kind === 'dns') ?? false;
  if (dnsCheck) out.dnsCheck = true;
  const url = argv['portal-url'];
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(String(url));
    } catch {
      throw new UsageError(`--portal-url '${String(url)}' is not a URL (e.g. --portal-url http://connectivitycheck.gstatic.com/generate_204)`);
    }
    // A portal answers plain HTTP; over HTTPS it could only break the handshake.
    if (u.protocol !== 'http:') throw new UsageError(`--portal-url must be an http:// URL (captive portals answer plain HTTP), not ${u.protocol}`);
    const text = argv['portal-expect'];
    const expect = text === undefined ? undefined : parseExpectation(String(text));
    if (text !== undefined && !expect) throw new UsageError(`--portal-expect '${String(text)}': give a status (204), text the body contains (Success), or both (200:Success)`);
    if (!expect && !KNOWN_ANSWERS[u.href]) throw new UsageError(`--portal-url ${u.href} has no known answer: say what it answers with --portal-expect (e.g. --portal-expect 204)`);
    out.portal = { url: u.href, ...(expect ? { expect } : {}) };
  } else if (argv['portal-expect'] !== undefined) {
    throw new UsageError('--portal-expect needs --portal-url (e.g. --portal-url http://captive.apple.com/hotspot-detect.html)');
  }
  if (typeof argv.reflector === 'string' && argv.reflector) {
    out.reflector = {
      host: argv.reflector.replace(/^\[(.*)\]$/, '$1'),
      udpPort: port(argv['reflector-udp-port'], '--reflector-udp-port') ?? REFLECTOR_DEFAULTS.udpPort,
      tcpPort: port(argv['reflector-tcp-port'], '--reflector-tcp-port') ?? REFLECTOR_DEFAULTS.tcpPort,
    };
  }
  if (!o.quiet) out.onNotice = (t) => void process.stderr.write(t);
  return out;
}
