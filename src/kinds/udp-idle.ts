/**
 * The description of the `udp-idle` kind (its prober: ../probers/udp-idle.ts, loaded when a run has
 * a probe of this kind).
 */
import { IDLE_OPTIONS, idleCheckDeadlineMs, type IdleProbeOptions } from './idle-options.js';
import { REFLECTOR_DEFAULTS } from '../reflector/protocol.js';
import type { KindDescriptor } from './kind.js';

/** udp-idle: how long this path keeps an idle UDP flow (its NAT mapping and state), against a netcheck reflector. */
export const kind: KindDescriptor<IdleProbeOptions> = {
  name: 'udp-idle',
  summary: 'idle UDP flows survive the required time (against a reflector)',
  transport: 'udp',
  target: 'host:port',
  timer: true,
  idle: { protocol: 'udp', defaultPort: REFLECTOR_DEFAULTS.udpPort },
  options: IDLE_OPTIONS,
  deadlineMs: (o) => idleCheckDeadlineMs('udp', o),
};
