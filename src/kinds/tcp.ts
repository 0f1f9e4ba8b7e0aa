/**
 * The description of the `tcp` kind (its prober: ../probers/tcp.ts, loaded when a run has
 * a probe of this kind).
 */
import type { KindDescriptor } from './kind.js';

/** tcp: does a TCP handshake to HOST:PORT complete? */
export const kind: KindDescriptor = {
  name: 'tcp',
  summary: 'a TCP handshake completes',
  transport: 'tcp',
  target: 'host:port',
  handshakeOnly: true,
  everyAddress: true,
  options: {},
};
