/**
 * The description of the `tcp-idle` kind (its prober: ../probers/tcp-idle.ts, loaded when a run has
 * a probe of this kind).
 */
import { IDLE_OPTIONS, idleCheckDeadlineMs, type IdleProbeOptions } from './idle-options.js';
import { REFLECTOR_DEFAULTS } from '../reflector/protocol.js';
import type { KindDescriptor } from './kind.js';

/** tcp-idle: how long this path keeps an idle TCP flow, against a netcheck reflector. */
export const kind: KindDescriptor<IdleProbeOptions> = {
  name: 'tcp-idle',
  summary: 'idle TCP flows survive the required time (against a reflector)',
  transport: 'tcp',
  target: 'host:port',
  timer: true,
  idle: { protocol: 'tcp', defaultPort: REFLECTOR_DEFAULTS.tcpPort },
  options: IDLE_OPTIONS,
  deadlineMs: (o) => idleCheckDeadlineMs('tcp', o),
};
