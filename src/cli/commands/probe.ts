import { isIP } from 'node:net';
import { expandCatalog } from '../../catalog/expand.js';
import { parseCatalog } from '../../catalog/load.js';
import { CATALOG_SCHEMA_ID, type CatalogDef, type CheckDef } from '../../catalog/schema.js';
import { runCheck } from '../../engine/check.js';
import { CatalogError, UsageError } from '../../errors.js';
import { KINDS } from '../../probers/index.js';
import { parseDuration } from '../../util/duration.js';
import { parsePorts } from '../../util/ip.js';
import { checkRunOptions, positiveInt } from '../options.js';
import { reflectorCredentials } from '../timers.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';
import { pathOptionsFromArgv } from '../path-options.js';
import { makeProgress, startInfo } from '../progress.js';
import { trustProbeInput } from './probe-trust.js';

/** Split `host:ports`, `[v6]:ports`, `cidr:ports`; a bare name or address has no ports. */
export function parseProbeTarget(target: string): { host: string; ports?: string } {
  const br = /^\[([^\]]+)\](?::(.+))?$/.exec(target);
  if (br) return { host: br[1]!, ...(br[2] ? { ports: br[2] } : {}) };
  if (isIP(target) === 6 || (target.includes('/') && isIP(target.split('/')[0]!) === 6)) return { host: target };
  const i = target.lastIndexOf(':');
  if (i < 0) return { host: target };
  return { host: target.slice(0, i), ports: target.slice(i + 1) };
}

/** Which kinds each kind-specific flag of `probe` belongs to; given to another kind, it is an error. */
const FLAG_KINDS: Record<string, string[]> = {
  servername: ['tls'],
  ca: ['tls'],
  'expect-issuer': ['tls'],
  cert: ['ocsp'],
  'cert-from': ['ocsp'],
  issuer: ['ocsp', 'crl'],
  'max-bytes': ['ocsp', 'crl'],
  hold: ['ws-hold'],
  'ping-every': ['ws-hold'],
  'pong-timeout': ['ws-hold'],
  wss: ['ws-hold'],
};

function checkFlagKinds(kind: string, argv: Record<string, unknown>): void {
  for (const [flag, kinds] of Object.entries(FLAG_KINDS)) {
    const v = argv[flag];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    if (!kinds.includes(kind)) throw new UsageError(`--${flag} applies to ${kinds.join(' and ')} probes, not ${kind} (e.g. netcheck probe ${kinds[0]} …  --${flag} …)`);
  }
}

/** `probe ws-hold` flags → check options; each checked here so a bad value names its flag. */
function wsHoldOptions(argv: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const flags = { hold: 'hold', 'ping-every': 'pingEvery', 'pong-timeout': 'pongTimeout' } as const;
  for (const [flag, key] of Object.entries(flags)) {
    const v = argv[flag];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new UsageError(`--${flag} needs a duration (e.g. --${flag} 2m)`);
    try {
      parseDuration(v, `--${flag}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    out[key] = v;
  }
  if (argv.wss !== undefined) out.tls = argv.wss === true;
  return out;
}

/** `netcheck probe <kind> <target>`: an ad-hoc check through the same engine and statuses. */
export async function probeCommand({ kind, target, argv }: { kind: string; target: string; argv: Record<string, unknown> }): Promise<number> {
  if (!KINDS.includes(kind)) throw new UsageError(`unknown probe kind '${kind}'; kinds: ${KINDS.join(', ')}`);
  const o = checkRunOptions({ ...argv, control: argv.control ?? false });
  // Trust-path kinds (tls, ocsp, crl): flags checked here; ocsp/crl targets are URLs.
  checkFlagKinds(kind, argv);
  const trust = await trustProbeInput(kind, target, argv);
  const { host, ports } = trust.url ? { host: trust.url, ports: undefined } : parseProbeTarget(target);
  if (kind !== 'dns' && !trust.url && ports === undefined) throw new UsageError(`${kind} needs a port: ${kind} HOST:PORT (e.g. netcheck probe ${kind} ${host}:443)`);
  if (ports !== undefined) {
    try {
      parsePorts(ports);
    } catch (err) {
      throw new UsageError(`target '${target}': ${(err as Error).message}`);
    }
  }
  const check: CheckDef = { kind };
  for (const k of ['payload', 'expect', 'scheme', 'path', 'method'] as const) if (argv[k] !== undefined) check[k] = argv[k];
  if (Array.isArray(argv.type)) check.types = (argv.type as string[]).map((t) => t.toUpperCase());
  Object.assign(check, trust.options, wsHoldOptions(argv));
  const def: CatalogDef = {
    schema: CATALOG_SCHEMA_ID,
    id: 'probe',
    title: `ad-hoc ${kind} probe of ${target}`,
    source: 'command line',
    sections: [{ id: 'adhoc', name: `${kind} ${target}`, lines: [{ id: 'target', description: `${kind} ${target}`, targets: [host], ...(ports ? { ports } : {}), checks: [check] }] }],
  };
  // Validate the ad-hoc target exactly like a catalog, but speak of the command line, not a file.
  let cat;
  try {
    cat = parseCatalog(JSON.stringify(def), 'command line');
  } catch (err) {
    if (err instanceof CatalogError) throw new UsageError(`target '${target}': ${err.message.replace(/^.*?: (sections\S*: )?/, '')}`);
    throw err;
  }
  // A range is swept whole (up to --max-targets), or sampled with --sample N.
  const sample = positiveInt(argv, 'sample', 8);
  let plan;
  try {
    plan = expandCatalog(cat, {
      params: {},
      sweep: sample === undefined,
      ...(typeof sample === 'number' ? { sampleCount: sample } : {}),
      ...(positiveInt(argv, 'max-targets', 65536) !== undefined ? { maxSweepTargets: positiveInt(argv, 'max-targets', 65536) } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      sampleHint: '--sample N',
    });
  } catch (err) {
    // Speak of the command line's target, as for the other target errors above.
    if (err instanceof UsageError && err.code === 'NC_SWEEP_TOO_LARGE') throw new UsageError(err.message.replace(/^target: /, `target '${target}': `), err.code);
    throw err;
  }
  const progress = makeProgress(`probe ${kind}`, o.quiet || plan.probes.length < 20);
  const signals = interruptControllers(o.quiet);
  progress.start(startInfo(plan));
  try {
    // A sweep is not traced unless asked (--trace): hundreds of failures would mean hundreds of traces.
    const path = pathOptionsFromArgv(argv, { traceByDefault: false, quiet: o.quiet });
    const report = await runCheck(plan, { ...o, ...reflectorCredentials(argv), ...path, stopSignal: signals.stop.signal, hardSignal: signals.hard.signal, onResult: progress.onResult });
    progress.end();
    await emitReport(report, { ...o, verbose: o.verbose || plan.probes.length <= 64 });
    return exitCodeFor(report);
  } finally {
    signals.dispose();
  }
}
