/** Defaults and limits, in one place. Durations carry their unit in the name. */
export const DEFAULTS = {
  /** Per-probe deadline. */
  timeoutMs: 3000,
  /**
   * Probes in flight across the whole run. The ESChat document alone implies ~490 probes; a run
   * should last about one probe deadline, not several waves of them. Sockets are cheap; the OS
   * file-descriptor limit is the real bound (Node raises the soft limit to the hard one).
   */
  concurrency: 512,
  /**
   * Probes in flight when a run starts; the engine doubles this, up to `concurrency`, while the
   * event loop has idle time (probes waiting on the network), and not while it is busy (a sweep
   * bound by this host's CPU, where more in flight only adds memory and GC: BENCHMARKS.md, (i)).
   */
  initialConcurrency: 128,
  /** How often the engine looks at event-loop utilisation to decide whether to widen. */
  widenIntervalMs: 20,
  /** Widen while the event loop was busy less than this share of the last interval. */
  widenBelowUtilisation: 0.75,
  /** Probes in flight to one destination: a whole 64-port data range at once, and no more. */
  perHostConcurrency: 64,
  /** Addresses probed from a CIDR range unless the catalog says otherwise. */
  sampleCount: 4,
  /** Largest range `--sweep` or an ad-hoc `probe` will expand. */
  maxSweepTargets: 65536,
  /** Bytes of an HTTP body read before the probe stops reading. */
  httpMaxBodyBytes: 64 * 1024,
  /** UDP datagram sends spread over the deadline (first reply wins). */
  udpSends: 3,
  /**
   * Linux answers closed ports with ICMP at a burst of about 6, then 1 per `icmp_ratelimit`
   * (1000 ms) per destination (net.ipv4.icmp_ratelimit). Silent ports of a host that also refused others
   * are rechecked one at a time, this far apart, so a rate-limited ICMP is not read as silence.
   */
  udpRecheckIntervalMs: 1000,
  /** Control destination that must never answer: TEST-NET-3 (RFC 5737). */
  controlTarget: '203.0.113.1:443',
  retries: 1,
} as const;


/** Limits of the trust-path probers (issue 4): downloads are capped so a hostile endpoint cannot exhaust memory. */
export const TRUST_LIMITS = {
  /** Largest OCSP response read; real ones are 1–4 KiB. */
  ocspMaxBytes: 64 * 1024,
  /** Largest CRL downloaded; big public CAs publish CRLs of several MiB. */
  crlMaxBytes: 20 * 1024 * 1024,
  /** Clock skew tolerated on thisUpdate/nextUpdate. */
  clockSkewMs: 5 * 60 * 1000,
} as const;

/**
 * Deadlines adapted to the measured round trip for lines that sweep many TCP targets
 * (src/engine/rtt.ts): `clamp(factor · (srtt + 4 · rttvar), floorMs, --timeout)`, like nmap's.
 */
export const ADAPTIVE_DEADLINE = {
  minProbes: 64,
  minSamples: 16,
  floorMs: 100,
  factor: 2,
} as const;
