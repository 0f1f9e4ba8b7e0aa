/**
 * The description of the `stun` kind (its prober: ../probers/stun.ts, loaded when a run has
 * a probe of this kind).
 */
import type { ResolvedList } from '../types.js';
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  /** Address lists (`$file-params`) the discovered address should be in, e.g. the office and agent IPs a client whitelisted. */
  compareWith: { type: 'array', items: { type: 'string', pattern: '^\\$[a-z0-9][a-z0-9-]*$' }, minItems: 1, uniqueItems: true },
} as const satisfies OptionSchemas;

/** The options of a stun probe: the catalog's, with its `$file` references resolved by the plan. */
export type StunOptions = Omit<OptionsOf<typeof OPTIONS>, 'compareWith'> & { compareWith?: ResolvedList[] };

/** stun: an RFC 5389 binding request; the answer names this network's public (egress) address. */
export const kind: KindDescriptor<StunOptions> = {
  name: 'stun',
  summary: "a STUN server returns this network's public address",
  transport: 'udp',
  target: 'host:port',
  options: OPTIONS,
};
