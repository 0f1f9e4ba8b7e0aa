/**
 * The description of the `media` kind (its prober: ../probers/media.ts, loaded when a run has
 * a probe of this kind).
 */
import { mediaDeadlineMs } from '../media/options.js';
import { DURATION_PATTERN } from '../util/duration.js';
import type { KindDescriptor } from './kind.js';

/** media: voice quality on a UDP port, against a netcheck reflector: loss, jitter, reordering, duplicates per direction; RTT and a MOS. */
export const kind: KindDescriptor = {
  name: 'media',
  summary: 'paced datagrams survive this path with speech-grade loss, RTT and jitter (against a reflector)',
  transport: 'udp',
  target: 'host:port',
  long: true,
  options: {
    pps: { type: 'integer', minimum: 1, maximum: 1000, description: 'Datagrams per second (default 50: G.711 at 20 ms).' },
    size: { type: 'integer', minimum: 40, maximum: 1400, description: 'Datagram size in bytes (default 172: 160 bytes of G.711 plus an RTP header).' },
    duration: { type: 'string', pattern: DURATION_PATTERN, description: 'How long to stream (default 10s).' },
    maxLoss: { type: 'number', minimum: 0, maximum: 100, description: 'Loss in either direction, in percent, at or above which the check fails (default 1).' },
    maxRtt: { type: 'string', pattern: DURATION_PATTERN, description: 'Average round trip at or above which the check fails (default 100ms).' },
    maxJitter: { type: 'string', pattern: DURATION_PATTERN, description: 'RFC 3550 jitter in either direction at or above which the check fails (default 30ms).' },
  },
  deadlineMs: mediaDeadlineMs,
};
