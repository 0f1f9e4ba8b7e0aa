/**
 * `netcheck idle --reflector HOST`: measure how long this path keeps idle TCP / UDP (and
 * WebSocket) flows, against a `netcheck reflect`, and check it against required timers. The report
 * is the usual Report with `timers` holding per-flow results, the bracket and the verdict.
 */
import { expandCatalog } from '../../catalog/expand.js';
import { CATALOG_SCHEMA_ID, type CatalogDef, type TimerDef } from '../../catalog/schema.js';
import { runCheck } from '../../engine/check.js';
import { UsageError } from '../../errors.js';
import { normaliseFingerprint } from '../../reflector/cert.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import { checkRunOptions } from '../options.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';
import { addTimerChecks, makeTimerProgress, parseGaps, timerNotice } from '../timers.js';

export async function idleCommand({ argv }: { argv: Record<string, unknown> }): Promise<number> {
  const o = checkRunOptions({ ...argv, control: argv.control ?? false });
  if (typeof argv.reflector !== 'string' || !argv.reflector) throw new UsageError('--reflector HOST is required: a `netcheck reflect` running outside this network');
  const req = (flag: string, fallback: string): number => {
    const ms = parseDuration(String(argv[flag] ?? fallback), `--${flag}`);
    if (ms < 100) throw new UsageError(`--${flag} must be at least 100ms (e.g. --${flag} 1m)`);
    return ms;
  };
  const timers: TimerDef[] = [];
  const add = (protocol: 'tcp' | 'udp' | 'ws', ms: number, what: string): void => {
    timers.push({ id: protocol, protocol, seconds: ms / 1000, description: `an idle ${what} flow must survive ${formatDuration(ms)}`, source: 'command line' });
  };
  if (argv.tcp !== false) add('tcp', req('require-tcp', '12m'), 'TCP');
  if (argv.udp !== false) add('udp', req('require-udp', '1m'), 'UDP');
  if (argv['ws-port'] !== undefined || argv['require-ws'] !== undefined) add('ws', req('require-ws', '12m'), 'WebSocket');
  if (!timers.length) throw new UsageError('nothing to measure: --no-tcp and --no-udp leave no protocol (add --ws-port P for WebSocket)');
  const def: CatalogDef = {
    schema: CATALOG_SCHEMA_ID,
    id: 'idle',
    title: `idle-flow timers via the reflector ${String(argv.reflector)}`,
    source: 'command line',
    timers,
    sections: [],
  };
  const plan = expandCatalog({ def, file: 'command line', lineOf: () => undefined }, { params: {} });
  const numPort = (flag: string): number | undefined => {
    const v = argv[flag];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new UsageError(`--${flag} must be a port 1-65535`);
    return v;
  };
  const tcpPort = numPort('tcp-port');
  const udpPort = numPort('udp-port');
  const wsPort = numPort('ws-port');
  if (typeof argv.fingerprint === 'string' && !normaliseFingerprint(argv.fingerprint)) throw new UsageError(`--fingerprint '${argv.fingerprint}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  const secret = typeof argv.secret === 'string' ? argv.secret : process.env.NETCHECK_REFLECTOR_SECRET;
  const gapsMs = {
    ...(argv['tcp-gaps'] !== undefined ? { tcp: parseGaps(argv['tcp-gaps'], '--tcp-gaps')! } : {}),
    ...(argv['udp-gaps'] !== undefined ? { udp: parseGaps(argv['udp-gaps'], '--udp-gaps')! } : {}),
    ...(argv['ws-gaps'] !== undefined ? { ws: parseGaps(argv['ws-gaps'], '--ws-gaps')! } : {}),
  };
  const reflector = argv.reflector.replace(/^\[(.*)\]$/, '$1');
  const t = addTimerChecks(plan, {
    reflector,
    ...(tcpPort ? { tcpPort } : {}),
    ...(udpPort ? { udpPort } : {}),
    ...(wsPort ? { wsPort } : {}),
    ...(argv.wss ? { wsTls: true } : {}),
    ...(typeof argv.fingerprint === 'string' ? { fingerprint: argv.fingerprint } : {}),
    ...(Object.keys(gapsMs).length ? { gapsMs } : {}),
    ...(secret !== undefined ? { secret } : {}),
  });
  if (!o.quiet) process.stderr.write(timerNotice(plan, t.runMs, reflector));
  const progress = makeTimerProgress(o.quiet);
  const signals = interruptControllers(o.quiet);
  try {
    const report = await runCheck(plan, {
      ...o,
      stopSignal: signals.stop.signal,
      hardSignal: signals.hard.signal,
      onProgress: progress.onProgress,
      ...(t.secret !== undefined ? { reflectorSecret: t.secret } : {}),
      ...(typeof argv.fingerprint === 'string' ? { reflectorFingerprint: argv.fingerprint } : {}),
    });
    progress.end();
    await emitReport(report, o);
    return exitCodeFor(report);
  } finally {
    progress.end(); // idempotent: also when the run threw
    signals.dispose();
  }
}
