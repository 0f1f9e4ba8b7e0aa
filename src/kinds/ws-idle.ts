/**
 * The description of the `ws-idle` kind (its prober: ../probers/ws-idle.ts, loaded when a run has
 * a probe of this kind).
 */
import { WS_OPTIONS } from './ws-options.js';
import { IDLE_OPTIONS, idleCheckDeadlineMs } from './idle-options.js';
import { REFLECTOR_DEFAULTS } from '../reflector/protocol.js';
import type { KindDescriptor } from './kind.js';

/** ws-idle: how long this path keeps an idle WebSocket, against a netcheck reflector. */
export const kind: KindDescriptor = {
  name: 'ws-idle',
  summary: 'an idle WebSocket survives the required time (against a reflector)',
  transport: 'tcp',
  target: 'host:port',
  timer: true,
  idle: { protocol: 'ws', defaultPort: REFLECTOR_DEFAULTS.wsPort },
  proxy: { scheme: () => 'https', compareDirect: false },
  options: { ...IDLE_OPTIONS, ...WS_OPTIONS },
  deadlineMs: (o) => idleCheckDeadlineMs('ws', o),
};
