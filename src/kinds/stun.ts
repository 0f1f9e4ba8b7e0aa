/**
 * The description of the `stun` kind (its prober: ../probers/stun.ts, loaded when a run has
 * a probe of this kind).
 */
import type { KindDescriptor } from './kind.js';

/** stun: an RFC 5389 binding request; the answer names this network's public (egress) address. */
export const kind: KindDescriptor = {
  name: 'stun',
  summary: "a STUN server returns this network's public address",
  transport: 'udp',
  target: 'host:port',
  options: {
    /** Address lists (`$file-params`) the discovered address should be in, e.g. the office and agent IPs a client whitelisted. */
    compareWith: { type: 'array', items: { type: 'string', pattern: '^\\$[a-z0-9][a-z0-9-]*$' }, minItems: 1, uniqueItems: true },
  },
};
