/**
 * The description of the `ip-list` kind (its prober: ../probers/ipList.ts, loaded when a run has
 * a probe of this kind).
 */
import type { ResolvedList } from '../types.js';
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  disjointFrom: { type: 'array', items: { type: 'string', pattern: '^\\$[a-z0-9][a-z0-9-]*$' }, minItems: 1, uniqueItems: true },
} as const satisfies OptionSchemas;

/** The options of an ip-list probe: the catalog's, with its `$file` references resolved by the plan. */
export type IpListOptions = Omit<OptionsOf<typeof OPTIONS>, 'disjointFrom'> & { disjointFrom?: ResolvedList[] };

/** ip-list: no packets; an address list (a target) must not overlap the lists named (`$file-params`). */
export const kind: KindDescriptor<IpListOptions> = {
  name: 'ip-list',
  summary: 'an address list stays out of the lists it must not overlap (sends nothing)',
  transport: 'none',
  target: 'list',
  options: OPTIONS,
};
