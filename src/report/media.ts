/**
 * The figures of media and NAT checks (issue 17) in their line's reason, so a passing line still
 * says how well voice flows ("MOS 4.4"), not only "1 probe ok". Pure.
 */
import type { MediaData } from '../probers/media.js';
import type { NatData } from '../probers/nat.js';
import type { ProbeResult } from '../types.js';

export function mediaReason(rs: ProbeResult[]): string | undefined {
  const parts: string[] = [];
  for (const r of rs) {
    if (r.kind === 'media' && r.data && 'lossPct' in r.data) {
      const d = r.data as unknown as MediaData;
      const loss = d.perDirection ? `loss ↑${d.lossPct.up}% ↓${d.lossPct.down}%` : `loss ${d.lossPct.roundTrip}% round trip`;
      const jitter = d.perDirection ? `jitter ↑${d.jitterMs.up} ↓${d.jitterMs.down} ms` : `jitter ${d.jitterMs.down} ms`;
      parts.push(`${d.rttMs ? `RTT ${d.rttMs.avg} ms, ` : ''}${jitter}, ${loss}${d.mos ? `, MOS ${d.mos.overall} (${d.mos.words})` : ''}`);
    } else if (r.kind === 'nat' && r.data && 'mapping' in r.data) {
      const d = r.data as unknown as NatData;
      const what =
        d.mapping === 'none'
          ? 'no NAT'
          : `${d.mapping} mapping, ${d.filtering.replace('endpoint-independent-or-address-dependent', 'endpoint-independent or address-dependent')} filtering`;
      parts.push(`${what}${d.needsRelay === true ? ': peer-to-peer media needs a relay (TURN)' : d.needsRelay === false ? ': peer-to-peer media can work' : ''}`);
    }
  }
  return parts.length ? parts.join('; ') : undefined;
}
