/**
 * The description of the `udp` kind (its prober: ../probers/udp.ts, loaded when a run has
 * a probe of this kind).
 */
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  payload: { type: 'string', description: 'Datagram to send: text, or hex:0a0b… for bytes.' },
  expect: { type: 'string', description: 'Reply must contain this (text, or hex:…) to count as ok.' },
} as const satisfies OptionSchemas;

/** The options of a udp probe. */
export type UdpOptions = OptionsOf<typeof OPTIONS>;

/** udp: a datagram to HOST:PORT, and what came back (a reply, ICMP, or silence). */
export const kind: KindDescriptor<UdpOptions> = {
  name: 'udp',
  summary: 'a datagram is answered (silence is open|filtered, never ok)',
  transport: 'udp',
  target: 'host:port',
  everyAddress: true,
  options: OPTIONS,
  flags: [
    { name: 'payload', option: 'payload', type: 'string', describe: 'datagram to send (text or hex:…)' },
    { name: 'expect', option: 'expect', type: 'string', describe: 'bytes the reply must contain' },
  ],
};
