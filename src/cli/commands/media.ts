/**
 * `netcheck media --reflector HOST --udp-port 4201`: does audio survive this network on the
 * vendor's UDP port? A stream of paced datagrams (default G.711 at 20 ms: 50/s of 172 bytes, for
 * 10 s) through a `netcheck reflect`, judged against loss, RTT and jitter thresholds; with
 * `--nat-port P` also how the NAT maps and filters UDP. The report is the usual Report.
 */
import { expandCatalog } from '../../catalog/expand.js';
import { CATALOG_SCHEMA_ID, type CatalogDef, type CheckDef, type LineDef } from '../../catalog/schema.js';
import { runCheck } from '../../engine/check.js';
import { UsageError } from '../../errors.js';
import { MEDIA_MAX_BYTES, MEDIA_MIN_BYTES } from '../../media/packet.js';
import { MEDIA_DEFAULTS, type MediaProbeOptions } from '../../media/options.js';
import { MEDIA_THRESHOLDS } from '../../media/quality.js';
import { REFLECTOR_DEFAULTS } from '../../reflector/protocol.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { hostPort } from '../../util/ip.js';
import { checkRunOptions } from '../options.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';

function port(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new UsageError(`--${flag} must be a port 1-65535 (e.g. --${flag} 4201)`);
  return v;
}

function intIn(v: unknown, flag: string, min: number, max: number, example: number): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${flag} must be a whole number ${min}-${max} (e.g. --${flag} ${example})`);
  return v;
}

function duration(v: unknown, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(String(v), `--${flag}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (ms < min) throw new UsageError(`--${flag} must be at least ${formatDuration(min)}`);
  return ms;
}

/** `--max-loss 1`, `1%` or `0.5%`: percent. */
function percent(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(String(v).trim());
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 0 && n <= 100)) throw new UsageError(`--max-loss '${String(v)}': a percentage 0-100 (e.g. --max-loss 1%)`);
  return n;
}

export async function mediaCommand({ argv }: { argv: Record<string, unknown> }): Promise<number> {
  const o = checkRunOptions({ ...argv, control: argv.control ?? false });
  if (typeof argv.reflector !== 'string' || !argv.reflector) throw new UsageError('--reflector HOST is required: a `netcheck reflect --udp PORT` running outside this network');
  const reflector = argv.reflector.replace(/^\[(.*)\]$/, '$1');
  const udpPort = port(argv['udp-port'], 'udp-port') ?? REFLECTOR_DEFAULTS.udpPort;
  const natPort = port(argv['nat-port'], 'nat-port');
  const pps = intIn(argv.pps, 'pps', 1, REFLECTOR_DEFAULTS.mediaMaxPps, 50) ?? MEDIA_DEFAULTS.pps;
  const size = intIn(argv.size, 'size', MEDIA_MIN_BYTES, MEDIA_MAX_BYTES, 172) ?? MEDIA_DEFAULTS.size;
  const durationMs = duration(argv.duration, 'duration', 200) ?? MEDIA_DEFAULTS.durationMs;
  if (durationMs > REFLECTOR_DEFAULTS.mediaMaxMs) throw new UsageError(`--duration is at most ${formatDuration(REFLECTOR_DEFAULTS.mediaMaxMs)} (what a reflector allows)`);
  if (pps * size > REFLECTOR_DEFAULTS.mediaBytesPerSecondPerSource) throw new UsageError(`--pps × --size is ${pps * size} bytes/s, above the ${REFLECTOR_DEFAULTS.mediaBytesPerSecondPerSource} a reflector allows`);
  const maxLoss = percent(argv['max-loss']) ?? MEDIA_THRESHOLDS.maxLossPct;
  const maxRttMs = duration(argv['max-rtt'], 'max-rtt', 1) ?? MEDIA_THRESHOLDS.maxRttMs;
  const maxJitterMs = duration(argv['max-jitter'], 'max-jitter', 1) ?? MEDIA_THRESHOLDS.maxJitterMs;
  const secret = typeof argv.secret === 'string' ? argv.secret : process.env.NETCHECK_REFLECTOR_SECRET;

  // --timeout bounds each set-up exchange (greeting, session, counters), each re-sent up to 3 times.
  // Not through the catalog validator (milliseconds are no catalog keys): typed by the prober's options instead.
  const check: CheckDef & MediaProbeOptions = { kind: 'media', pps, size, durationMs, maxLoss, maxRttMs, maxJitterMs, ...(o.timeoutMs !== undefined ? { setupMs: o.timeoutMs } : {}) };
  const lines: LineDef[] = [
    {
      id: 'media',
      description: `Voice on UDP ${udpPort}: ${pps} datagrams/s of ${size} bytes for ${formatDuration(durationMs)} through the reflector ${hostPort(reflector, udpPort)}`,
      targets: [reflector],
      ports: udpPort,
      checks: [check],
    },
  ];
  if (natPort !== undefined) {
    lines.push({ id: 'nat', description: `NAT behaviour (UDP ${udpPort} and ${natPort}): does media need a relay?`, targets: [reflector], ports: udpPort, checks: [{ kind: 'nat', altPort: natPort }] });
  }
  const def: CatalogDef = {
    schema: CATALOG_SCHEMA_ID,
    id: 'media',
    title: `media quality via the reflector ${reflector}`,
    source: 'command line',
    sections: [{ id: 'media', name: 'Media quality (thresholds: loss < ' + `${maxLoss}%, RTT < ${maxRttMs} ms, jitter < ${maxJitterMs} ms)`, lines }],
  };
  const plan = expandCatalog({ def, file: 'command line', lineOf: () => undefined }, { params: {} });
  const signals = interruptControllers(o.quiet);
  let said = false;
  const onProgress = (): void => {
    if (said || o.quiet) return;
    said = true;
    process.stderr.write(`netcheck media: session open, streaming to ${hostPort(reflector, udpPort)} for ${formatDuration(durationMs)} (Ctrl-C stops early and reports what was measured)\n`);
  };
  try {
    const report = await runCheck(plan, {
      ...o,
      stopSignal: signals.stop.signal,
      hardSignal: signals.hard.signal,
      onProgress,
      ...(secret !== undefined ? { reflectorSecret: secret } : {}),
    });
    await emitReport(report, { ...o, verbose: true });
    return exitCodeFor(report);
  } finally {
    signals.dispose();
  }
}
