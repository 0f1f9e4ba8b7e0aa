/**
 * The description of the `ip-list` kind (its prober: ../probers/ipList.ts, loaded when a run has
 * a probe of this kind).
 */
import type { KindDescriptor } from './kind.js';

/** ip-list: no packets; an address list (a target) must not overlap the lists named (`$file-params`). */
export const kind: KindDescriptor = {
  name: 'ip-list',
  summary: 'an address list stays out of the lists it must not overlap (sends nothing)',
  transport: 'none',
  target: 'list',
  options: {
    disjointFrom: { type: 'array', items: { type: 'string', pattern: '^\\$[a-z0-9][a-z0-9-]*$' }, minItems: 1, uniqueItems: true },
  },
};
