/**
 * `--timers --reflector HOST` on catalog runs: the options, the timer probes they add, the
 * up-front "this will take N minutes", and the countdown on stderr (flows alive and lost so far).
 */
import type { Argv } from 'yargs';
import type { Plan } from '../catalog/expand.js';
import { timerProbes, timerRunMs, type TimerPlanOptions } from '../catalog/timers.js';
import { UsageError } from '../errors.js';
import { normaliseFingerprint } from '../reflector/cert.js';
import type { ProbeProgress } from '../types.js';
import { canRedraw } from './progress.js';
import { formatDuration, parseDuration } from '../util/duration.js';

/** Flags of this module (so they are not taken for catalog parameters). */
export const TIMER_FLAGS = [
  'timers',
  'reflector',
  'reflector-secret',
  'reflector-tcp-port',
  'reflector-udp-port',
  'reflector-ws-port',
  'reflector-wss',
  'reflector-fingerprint',
  'gaps',
  'tcp-gaps',
  'udp-gaps',
  'ws-gaps',
  'timer-scale',
] as const;

export function timerOptions<T>(y: Argv<T>) {
  return y
    .option('timers', { type: 'boolean', describe: "also measure the document's idle timers (needs --reflector; takes as long as the longest gap, e.g. 15m for a 12m timer)" })
    .option('reflector', { type: 'string', describe: 'HOST of a `netcheck reflect` outside this network (the far end that speaks after each gap)' })
    .option('reflector-secret', { type: 'string', describe: 'shared secret of the reflector (or env NETCHECK_REFLECTOR_SECRET)' })
    .option('reflector-tcp-port', { type: 'number', describe: 'reflector TCP port (default 7070)' })
    .option('reflector-udp-port', { type: 'number', describe: 'reflector UDP port (default 7070)' })
    .option('reflector-ws-port', { type: 'number', describe: 'reflector WebSocket port (default 7071)' })
    .option('reflector-wss', { type: 'boolean', describe: 'use wss for WebSocket timers' })
    .option('reflector-fingerprint', { type: 'string', describe: "SHA-256 of the reflector's self-signed certificate (printed by `netcheck reflect`): wss checks accept it; also for catalog lines against a reflector (e.g. LivePerson's ws-hold)" })
    .option('gaps', { type: 'string', describe: 'idle gaps for every timer, e.g. 20s,40s,55s,65s,90s (default: derived from each timer)' })
    .option('tcp-gaps', { type: 'string', describe: 'idle gaps for TCP timers' })
    .option('udp-gaps', { type: 'string', describe: 'idle gaps for UDP timers' })
    .option('ws-gaps', { type: 'string', describe: 'idle gaps for WebSocket timers' })
    .option('timer-scale', { type: 'number', describe: 'multiply every timer by this (tests: 0.01 turns 12m into 7.2s)' });
}

/** Parse a list of durations (`20s,40s,1m`). */
export function parseGaps(text: unknown, flag: string): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = String(text)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) throw new UsageError(`${flag}: give one or more durations, e.g. ${flag} 20s,40s,55s`);
  const gaps = parts.map((p) => parseDuration(p, flag));
  if (gaps.some((g) => g < 100)) throw new UsageError(`${flag}: each gap must be at least 100ms (e.g. ${flag} 2s,4s)`);
  if (gaps.length > 32) throw new UsageError(`${flag}: at most 32 gaps (one flow each)`);
  return gaps;
}

function port(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new UsageError(`${flag} must be a port 1-65535 (e.g. ${flag} 7070)`);
  return v;
}

/** Validate the timer flags; undefined when --timers was not asked for. */
export function timerPlanFromArgv(argv: Record<string, unknown>): (TimerPlanOptions & { secret?: string }) | undefined {
  // The reflector's secret and pin also serve catalog lines that check against a reflector
  // (e.g. LivePerson's ws-hold), and the reflector and its TCP/UDP ports the path-MTU and
  // captive-portal checks (issue 17), so they are fine without --timers.
  const notTimerOnly = new Set(['timers', 'reflector', 'reflector-secret', 'reflector-fingerprint', 'reflector-tcp-port', 'reflector-udp-port']);
  const timerOnly = TIMER_FLAGS.filter((f) => !notTimerOnly.has(f) && argv[f] !== undefined);
  if (!argv.timers) {
    if (timerOnly.length) throw new UsageError(`--${timerOnly[0]} is a timer option and needs --timers (e.g. netcheck eschat --signaling-port 7400 --timers --reflector reflector.example.net)`);
    return undefined;
  }
  if (typeof argv.reflector !== 'string' || !argv.reflector) {
    throw new UsageError('--timers needs --reflector HOST: a `netcheck reflect` running outside this network (e.g. --timers --reflector reflector.example.net)');
  }
  const fp = argv['reflector-fingerprint'];
  if (fp !== undefined && !normaliseFingerprint(String(fp))) throw new UsageError(`--reflector-fingerprint '${String(fp)}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  const scale = argv['timer-scale'];
  if (scale !== undefined && !(typeof scale === 'number' && scale > 0)) throw new UsageError('--timer-scale must be a number above 0 (e.g. --timer-scale 0.01)');
  const secret = typeof argv['reflector-secret'] === 'string' ? argv['reflector-secret'] : process.env.NETCHECK_REFLECTOR_SECRET;
  const gaps = {
    ...(argv.gaps !== undefined ? { all: parseGaps(argv.gaps, '--gaps') } : {}),
    ...(argv['tcp-gaps'] !== undefined ? { tcp: parseGaps(argv['tcp-gaps'], '--tcp-gaps') } : {}),
    ...(argv['udp-gaps'] !== undefined ? { udp: parseGaps(argv['udp-gaps'], '--udp-gaps') } : {}),
    ...(argv['ws-gaps'] !== undefined ? { ws: parseGaps(argv['ws-gaps'], '--ws-gaps') } : {}),
  };
  const tcpPort = port(argv['reflector-tcp-port'], '--reflector-tcp-port');
  const udpPort = port(argv['reflector-udp-port'], '--reflector-udp-port');
  const wsPort = port(argv['reflector-ws-port'], '--reflector-ws-port');
  return {
    reflector: argv.reflector.replace(/^\[(.*)\]$/, '$1'),
    ...(tcpPort ? { tcpPort } : {}),
    ...(udpPort ? { udpPort } : {}),
    ...(wsPort ? { wsPort } : {}),
    ...(argv['reflector-wss'] ? { wsTls: true } : {}),
    ...(fp !== undefined ? { fingerprint: String(fp) } : {}),
    ...(Object.keys(gaps).length ? { gapsMs: gaps as TimerPlanOptions['gapsMs'] } : {}),
    ...(typeof scale === 'number' ? { scale } : {}),
    ...(secret !== undefined ? { secret } : {}),
  };
}

/** `--reflector-secret` / `--reflector-fingerprint` (or NETCHECK_REFLECTOR_SECRET), for the engine. */
export function reflectorCredentials(argv: Record<string, unknown>): { reflectorSecret?: string; reflectorFingerprint?: string } {
  const fp = argv['reflector-fingerprint'];
  if (fp !== undefined && !normaliseFingerprint(String(fp))) throw new UsageError(`--reflector-fingerprint '${String(fp)}' is not a SHA-256 fingerprint (64 hex digits, colons allowed)`);
  const secret = typeof argv['reflector-secret'] === 'string' ? argv['reflector-secret'] : process.env.NETCHECK_REFLECTOR_SECRET;
  return { ...(secret !== undefined ? { reflectorSecret: secret } : {}), ...(fp !== undefined ? { reflectorFingerprint: String(fp) } : {}) };
}

/**
 * Append the timer probes of a plan's catalog. Returns the secret to hand the engine (never put
 * in specs, so `plan --json` cannot print it) and how long the timer checks will take.
 */
export function addTimerChecks(plan: Plan, t: TimerPlanOptions & { secret?: string }): { secret?: string; runMs: number; count: number } {
  const timers = plan.catalog.timers ?? [];
  if (!timers.length) throw new UsageError(`catalog '${plan.catalog.id}' documents no idle timers; --timers has nothing to measure`);
  const specs = timerProbes(timers, t);
  plan.probes.push(...specs);
  return { ...(t.secret !== undefined ? { secret: t.secret } : {}), runMs: timerRunMs(specs), count: specs.length };
}

/** The up-front notice: what will be measured and how long it takes. */
export function timerNotice(plan: Plan, runMs: number, reflector: string): string {
  const what = plan.probes
    .filter((p) => p.line.startsWith('timers/'))
    .map((p) => {
      const o = p.options as { requireMs?: number; gapsMs?: number[] };
      return `${p.kind} ${formatDuration(o.requireMs ?? 0)} (gaps ${(o.gapsMs ?? []).map(formatDuration).join(', ')})`;
    })
    .join('; ');
  return `netcheck: idle-timer checks against the reflector ${reflector} will take about ${formatDuration(runMs)}: ${what}. Ctrl-C writes the partial result.\n`;
}

/** Countdown on stderr for long probes: time left, flows alive and lost so far. */
export function makeTimerProgress(quiet: boolean, stream: NodeJS.WriteStream = process.stderr): { onProgress: (u: ProbeProgress) => void; end: () => void } {
  if (quiet) return { onProgress: () => undefined, end: () => undefined };
  const tty = canRedraw(stream);
  const state = new Map<string, ProbeProgress>();
  let lastLine = 0;
  const line = (): string => {
    let endsAt = 0;
    const n = { flows: 0, alive: 0, lost: 0, pending: 0, failed: 0 };
    for (const u of state.values()) {
      endsAt = Math.max(endsAt, u.endsAt);
      n.flows += u.flows;
      n.alive += u.alive;
      n.lost += u.lost;
      n.pending += u.pending;
      n.failed += u.failed;
    }
    const left = Math.max(0, endsAt - Date.now());
    // Each flow is in one count, so they add up to the flows (issue 16).
    return (
      `netcheck timers: ${formatDuration(left)} left until the last gap ends · ${n.flows} flow(s): ${n.alive} alive, ${n.lost} lost, ${n.pending} waiting` +
      (n.failed ? `, ${n.failed} could not start` : '')
    );
  };
  const show = (force: boolean): void => {
    const now = Date.now();
    if (tty) {
      if (force || now - lastLine >= 1000) {
        stream.write(`\r\x1b[K${line()}`);
        lastLine = now;
      }
    } else if (force || now - lastLine >= 30_000) {
      stream.write(`${line()}\n`);
      lastLine = now;
    }
  };
  let ended = false;
  const ticker = setInterval(() => state.size && !ended && show(false), 1000);
  ticker.unref();
  return {
    onProgress: (u) => {
      if (ended) return;
      const prev = state.get(u.id);
      const first = state.size === 0;
      state.set(u.id, u);
      // A flow lost or proven alive is news: show it now rather than on the next tick (without a
      // terminal that tick comes every 30 s; a log then still says which gaps were already proven).
      show(first || (prev !== undefined && (prev.lost !== u.lost || prev.alive !== u.alive)));
    },
    end: () => {
      clearInterval(ticker);
      if (!state.size || ended) return;
      ended = true;
      if (tty) stream.write('\r\x1b[K');
      stream.write(`${line().replace(/^netcheck timers: .*? ends · /, 'netcheck timers: done · ')}\n`);
    },
  };
}
