/**
 * The description of the `ws-idle` kind (its prober: ../probers/ws-idle.ts, loaded when a run has
 * a probe of this kind).
 */
import { WS_OPTIONS, type WsOptions } from './ws-options.js';
import { IDLE_OPTIONS, idleCheckDeadlineMs, type IdleProbeOptions } from './idle-options.js';
import { REFLECTOR_DEFAULTS } from '../reflector/protocol.js';
import type { KindDescriptor } from './kind.js';

/** The options of a ws-idle probe: an idle-timer check's, and the WebSocket's. */
export type WsIdleOptions = IdleProbeOptions & WsOptions;

/** ws-idle: how long this path keeps an idle WebSocket, against a netcheck reflector. */
export const kind: KindDescriptor<WsIdleOptions> = {
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
