import { isIP } from 'node:net';
import type { Argv } from 'yargs';
import { expandCatalog } from '../../catalog/expand.js';
import { parseCatalog } from '../../catalog/load.js';
import { CATALOG_SCHEMA_ID, type CatalogDef, type CheckDef } from '../../catalog/schema.js';
import { runCheck } from '../../engine/check.js';
import { CatalogError, UsageError } from '../../errors.js';
import { KINDS, kindOf, PROBE_FLAGS, type KindDescriptor } from '../../probers/index.js';
import { parseUrlTarget } from '../../trust/url.js';
import { parsePorts } from '../../util/ip.js';
import { checkRunOptions, positiveInt } from '../options.js';
import { reflectorCredentials } from '../timers.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';
import { pathOptionsFromArgv } from '../path-options.js';
import { makeProgress, startInfo } from '../progress.js';

/** Split `host:ports`, `[v6]:ports`, `cidr:ports`; a bare name or address has no ports. */
export function parseProbeTarget(target: string): { host: string; ports?: string } {
  const br = /^\[([^\]]+)\](?::(.+))?$/.exec(target);
  if (br) return { host: br[1]!, ...(br[2] ? { ports: br[2] } : {}) };
  if (isIP(target) === 6 || (target.includes('/') && isIP(target.split('/')[0]!) === 6)) return { host: target };
  const i = target.lastIndexOf(':');
  if (i < 0) return { host: target };
  return { host: target.slice(0, i), ports: target.slice(i + 1) };
}

/**
 * The kind-specific flags of `probe` (each kind's description declares its own) → check options,
 * each checked here so a bad value or a flag given to another kind is a usage error naming the
 * flag, before anything is sent.
 */
async function flagOptions(kind: KindDescriptor, argv: Record<string, unknown>): Promise<Record<string, unknown>> {
  const given = PROBE_FLAGS.filter((f) => {
    const v = argv[f.name];
    return v !== undefined && !(Array.isArray(v) && v.length === 0);
  });
  for (const f of given) {
    if (!f.kinds.includes(kind.name)) throw new UsageError(`--${f.name} applies to ${f.kinds.join(' and ')} probes, not ${kind.name} (e.g. netcheck probe ${f.kinds[0]} …  --${f.name} …)`);
  }
  kind.checkFlags?.(argv);
  const options: Record<string, unknown> = {};
  for (const f of given) options[f.option] = f.parse ? await f.parse(argv[f.name]) : argv[f.name];
  return options;
}

/** The `probe` flags of every kind, for yargs: help text names the kinds each applies to. */
export function kindFlags<T>(y: Argv<T>): Argv<T> {
  let out = y;
  for (const f of PROBE_FLAGS) {
    out = out.option(f.name, {
      ...(f.choices ? { choices: [...f.choices] } : { type: f.type }),
      ...(f.array ? { array: true } : {}),
      describe: `${f.kinds.join('/')}: ${f.describe}`,
    });
  }
  return out;
}

/** A URL kind's target (ocsp, crl), normalised. */
function urlTarget(kind: string, target: string): string {
  const u = parseUrlTarget(target);
  if ('error' in u) throw new UsageError(`target: ${u.error} (e.g. netcheck probe ${kind} http://${kind}.example.com)`);
  return u.url;
}

/** `netcheck probe <kind> <target>`: an ad-hoc check through the same engine and statuses. */
export async function probeCommand({ kind, target, argv }: { kind: string; target: string; argv: Record<string, unknown> }): Promise<number> {
  const k = kindOf(kind);
  if (!k) throw new UsageError(`unknown probe kind '${kind}'; kinds: ${KINDS.join(', ')}`);
  const o = checkRunOptions({ ...argv, control: argv.control ?? false });
  const flagged = await flagOptions(k, argv);
  const url = k.target === 'url' ? urlTarget(kind, target) : undefined;
  const { host, ports } = url ? { host: url, ports: undefined } : parseProbeTarget(target);
  if (!url && k.target !== 'host' && ports === undefined) throw new UsageError(`${kind} needs a port: ${kind} HOST:PORT (e.g. netcheck probe ${kind} ${host}:443)`);
  if (ports !== undefined) {
    try {
      parsePorts(ports);
    } catch (err) {
      throw new UsageError(`target '${target}': ${(err as Error).message}`);
    }
  }
  const check: CheckDef = { kind, ...flagged };
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
