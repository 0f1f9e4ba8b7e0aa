/**
 * The description of the `nat` kind (its prober: ../probers/nat.ts, loaded when a run has
 * a probe of this kind).
 */
import { natDeadlineMs } from '../media/options.js';
import type { KindDescriptor } from './kind.js';

/** nat: how the NAT maps and filters UDP, against a reflector serving two UDP ports or an RFC 5780 STUN server. */
export const kind: KindDescriptor = {
  name: 'nat',
  summary: 'how the NAT maps and filters UDP: can media go peer to peer, or does it need a relay?',
  transport: 'udp',
  target: 'host:port',
  long: true,
  trace: false,
  options: {
    server: { enum: ['reflector', 'stun'], description: 'The far end: a netcheck reflector (default) or a STUN server with RFC 5780 NAT discovery (e.g. coturn on two addresses).' },
    altPort: { type: 'integer', minimum: 1, maximum: 65535, description: "The reflector's second UDP port (default: the line's port + 1)." },
  },
  deadlineMs: natDeadlineMs,
};
