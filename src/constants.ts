/** Defaults and limits, in one place. Durations carry their unit in the name. */
export const DEFAULTS = {
  /** Per-probe deadline. */
  timeoutMs: 3000,
  /** Probes in flight across the whole run. */
  concurrency: 128,
  /** Probes in flight to one destination address (be polite to a single server). */
  perHostConcurrency: 16,
  /** Addresses probed from a CIDR range unless the catalog says otherwise. */
  sampleCount: 4,
  /** Largest range `--sweep` or an ad-hoc `probe` will expand. */
  maxSweepTargets: 65536,
  /** Bytes of an HTTP body read before the probe stops reading. */
  httpMaxBodyBytes: 64 * 1024,
  /** UDP datagram sends spread over the deadline (first reply wins). */
  udpSends: 3,
  /**
   * Pace between UDP probes to one destination. Linux answers closed ports with ICMP at a burst of
   * 6 then 1 per `icmp_ratelimit` (1000 ms) (see ../shared/LAB.md); pacing keeps refusals visible.
   */
  udpPaceMs: 0,
  /** Control destination that must never answer: TEST-NET-3 (RFC 5737). */
  controlTarget: '203.0.113.1:443',
  retries: 1,
} as const;

/** Retry only where an outcome is ambiguous or transient (local resource shortage). */
export const RETRYABLE_REASONS = new Set(['EADDRNOTAVAIL', 'EMFILE', 'ENFILE', 'EAI_AGAIN', 'ENOBUFS']);
