/**
 * The description of the `dns` kind (its prober: ../probers/dns.ts, loaded when a run has
 * a probe of this kind).
 */
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  types: { type: 'array', items: { enum: ['A', 'AAAA'] }, minItems: 1, uniqueItems: true },
  /** Addresses or CIDR ranges the document pairs with this name (DNS drift). */
  expectAddresses: { type: 'array', items: { type: 'string' }, minItems: 1 },
} as const satisfies OptionSchemas;

/** The options of a dns probe. */
export type DnsOptions = OptionsOf<typeof OPTIONS>;

/** `--type a --type AAAA` (repeats collect into an array) → `['A', 'AAAA']`. */
function recordTypes(v: unknown): string[] {
  return [v].flat().map((t) => String(t).toUpperCase());
}

/** dns: does a name resolve, within the addresses the document gives for it? */
export const kind: KindDescriptor<DnsOptions> = {
  name: 'dns',
  summary: 'a name resolves (within the addresses the document gives)',
  // The query goes to the resolver, not to the target: no port of the target is opened.
  transport: 'none',
  target: 'host',
  options: OPTIONS,
  flags: [{ name: 'type', option: 'types', type: 'string', array: true, describe: 'record types (A, AAAA)', parse: recordTypes }],
};
