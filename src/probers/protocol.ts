/**
 * Which transport a probe kind's packets use: the one answer that remediation text ("Allow
 * outbound UDP 3478 …"), the "no outbound connectivity" evidence rule and the allowlist rules all
 * read, so they can never disagree (a STUN probe advised as TCP was issue 10). Kept deliberately
 * small: the full probe-kind descriptor is issue 13.
 */

/** Kinds whose packets are UDP. Every other kind that sends to a port opens a TCP connection. */
export const UDP_KINDS: ReadonlySet<string> = new Set(['udp', 'udp-idle', 'stun', 'media', 'nat']);

/** The transport of a ported probe kind. */
export function protocolOf(kind: string): 'tcp' | 'udp' {
  return UDP_KINDS.has(kind) ? 'udp' : 'tcp';
}
