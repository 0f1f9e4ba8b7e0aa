/**
 * The description of the `ws-hold` kind (its prober: ../probers/ws-hold.ts, loaded when a run has
 * a probe of this kind).
 */
import { DURATION_PATTERN, parseDuration } from '../util/duration.js';
import { WS_OPTIONS } from './ws-options.js';
import { UsageError } from '../errors.js';
import type { KindDescriptor, OptionSchemas, OptionsOf, ProbeFlag } from './kind.js';

export const HOLD_MS = 15 * 60_000;
export const PONG_TIMEOUT_MS = 10_000;

/** A duration option (catalog text such as `2m`, checked against DURATION_PATTERN), or its default. */
export function dur(v: string | undefined, fallback: number, what: string): number {
  return v === undefined ? fallback : parseDuration(v, what);
}

const OPTIONS = {
  ...WS_OPTIONS,
  hold: { type: 'string', pattern: DURATION_PATTERN, description: 'How long to hold the connection (default 15m).' },
  pingEvery: { type: 'string', pattern: DURATION_PATTERN, description: "The vendor's ping cadence (default 30s)." },
  pongTimeout: { type: 'string', pattern: DURATION_PATTERN, description: 'A ping unanswered this long counts as silence (default 10s).' },
} as const satisfies OptionSchemas;

/** The options of a ws-hold probe. */
export type WsHoldOptions = OptionsOf<typeof OPTIONS>;

/** A ws-hold duration flag: checked here, so a bad value names its flag. */
function durationFlag(name: string, option: string, describe: string): ProbeFlag {
  return {
    name,
    option,
    type: 'string',
    describe,
    parse: (v) => {
      if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} needs a duration (e.g. --${name} 2m)`);
      parseDuration(v, `--${name}`);
      return v;
    },
  };
}

/** ws-hold: hold a WebSocket open with the vendor's ping cadence; whether, when and how it dropped. */
export const kind: KindDescriptor<WsHoldOptions> = {
  name: 'ws-hold',
  summary: "a WebSocket stays open for the hold, with the vendor's ping cadence",
  transport: 'tcp',
  target: 'host:port',
  timer: true,
  setupTimeout: true,
  proxy: { scheme: () => 'https', compareDirect: false },
  options: OPTIONS,
  flags: [
    durationFlag('hold', 'hold', 'how long to hold the WebSocket open (default 15m)'),
    durationFlag('ping-every', 'pingEvery', "the vendor's ping cadence (default 30s)"),
    durationFlag('pong-timeout', 'pongTimeout', 'a ping unanswered this long counts as silence (default 10s)'),
    { name: 'wss', option: 'tls', type: 'boolean', describe: 'WebSocket over TLS (default: wss on port 443)', parse: (v) => v === true },
    { name: 'path', option: 'path', type: 'string', describe: 'request path' },
  ],
  // The hold, the last pong's wait, and slack for the handshake and the close.
  deadlineMs: (o) => dur(o.hold, HOLD_MS, 'hold') + dur(o.pongTimeout, PONG_TIMEOUT_MS, 'pongTimeout') + 15_000,
};
