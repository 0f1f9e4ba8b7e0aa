/**
 * The description of the `media` kind (its prober: ../probers/media.ts, loaded when a run has
 * a probe of this kind).
 */
import { MEDIA_OPTIONS, mediaDeadlineMs, type MediaProbeOptions } from '../media/options.js';
import type { KindDescriptor } from './kind.js';

/** media: voice quality on a UDP port, against a netcheck reflector: loss, jitter, reordering, duplicates per direction; RTT and a MOS. */
export const kind: KindDescriptor<MediaProbeOptions> = {
  name: 'media',
  summary: 'paced datagrams survive this path with speech-grade loss, RTT and jitter (against a reflector)',
  transport: 'udp',
  target: 'host:port',
  long: true,
  options: MEDIA_OPTIONS,
  deadlineMs: mediaDeadlineMs,
};
