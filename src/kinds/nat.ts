/**
 * The description of the `nat` kind (its prober: ../probers/nat.ts, loaded when a run has
 * a probe of this kind).
 */
import { NAT_WAIT_MS } from '../media/options.js';
import type { KindDescriptor, OptionSchemas, OptionsOf } from './kind.js';

const OPTIONS = {
  server: { enum: ['reflector', 'stun'], description: 'The far end: a netcheck reflector (default) or a STUN server with RFC 5780 NAT discovery (e.g. coturn on two addresses).' },
  altPort: { type: 'integer', minimum: 1, maximum: 65535, description: "The reflector's second UDP port (default: the line's port + 1)." },
} as const satisfies OptionSchemas;

/** The options of a nat probe. */
export type NatOptions = OptionsOf<typeof OPTIONS>;

/** The engine's deadline for a NAT check: three exchanges with a reflector, up to six with a STUN server (RFC 5780). */
function natDeadlineMs(options: NatOptions): number {
  return (options.server === 'stun' ? 6 : 3) * NAT_WAIT_MS + 3000;
}

/** nat: how the NAT maps and filters UDP, against a reflector serving two UDP ports or an RFC 5780 STUN server. */
export const kind: KindDescriptor<NatOptions> = {
  name: 'nat',
  summary: 'how the NAT maps and filters UDP: can media go peer to peer, or does it need a relay?',
  transport: 'udp',
  target: 'host:port',
  long: true,
  trace: false,
  options: OPTIONS,
  deadlineMs: natDeadlineMs,
};
