/**
 * Media quality and NAT behaviour as Prometheus gauges (issue 17), beside the per-probe ones of
 * ./prometheus.ts. Labels stay bounded: catalog, line, target (as planned), and closed sets
 * (direction up/down/round-trip; the NAT's mapping and filtering names).
 */
import type { Gauge, Registry } from 'prom-client';
import { Gauge as GaugeClass } from 'prom-client';
import type { MediaData } from '../probers/media.js';
import type { NatData } from '../probers/nat.js';
import type { Report } from '../types.js';
import { hostPort } from '../util/ip.js';

type Labels = Record<string, string>;
type Setter = (g: Gauge<string>, labels: Labels, v: number) => void;

export class MediaMetrics {
  private readonly g: Record<string, Gauge<string>>;

  constructor(registry: Registry) {
    const gauge = (name: string, help: string, labelNames: string[]): Gauge<string> => new GaugeClass({ name, help, labelNames, registers: [registry] });
    const L = ['catalog', 'line', 'target'];
    this.g = {
      rtt: gauge('netcheck_media_rtt_seconds', 'Average round trip of the media stream through the reflector.', L),
      rttP95: gauge('netcheck_media_rtt_p95_seconds', '95th percentile round trip of the media stream.', L),
      jitter: gauge('netcheck_media_jitter_seconds', 'RFC 3550 interarrival jitter of the media stream, per direction (up: towards the reflector).', [...L, 'direction']),
      loss: gauge('netcheck_media_loss_ratio', 'Share of media datagrams lost, per direction (up, down, round-trip).', [...L, 'direction']),
      reordered: gauge('netcheck_media_reordered_packets', 'Media datagrams that arrived out of order, per direction.', [...L, 'direction']),
      duplicates: gauge('netcheck_media_duplicate_packets', 'Media datagrams that arrived more than once, per direction.', [...L, 'direction']),
      mos: gauge('netcheck_media_mos', 'Estimated MOS (ITU-T G.107 E-model, simplified; G.711) of the worse direction.', L),
      nat: gauge('netcheck_nat_info', "How the NAT maps and filters UDP (1 for what was seen); needs_relay is 'true' for a destination-dependent mapping.", [...L, 'mapping', 'filtering', 'needs_relay']),
    };
  }

  /** Set this report's series through `set` (which records them for removal on the next run). */
  update(report: Report, set: Setter): void {
    const catalog = report.catalog.id;
    for (const p of report.probes) {
      if (p.status === 'skipped' || !p.data) continue;
      const prefix = `${p.line}/${p.kind}/`;
      const target = p.id.startsWith(prefix) ? p.id.slice(prefix.length) : hostPort(p.host, p.port);
      const l = { catalog, line: p.line, target };
      if (p.kind === 'media') {
        const d = p.data as unknown as MediaData;
        if (d.rttMs) {
          set(this.g.rtt!, l, d.rttMs.avg / 1000);
          set(this.g.rttP95!, l, d.rttMs.p95 / 1000);
        }
        const each = (g: Gauge<string>, v: { up?: number; down?: number; roundTrip?: number }, scale: number): void => {
          if (v.up !== undefined) set(g, { ...l, direction: 'up' }, v.up * scale);
          if (v.down !== undefined) set(g, { ...l, direction: 'down' }, v.down * scale);
          if (v.roundTrip !== undefined) set(g, { ...l, direction: 'round-trip' }, v.roundTrip * scale);
        };
        each(this.g.jitter!, d.jitterMs, 1 / 1000);
        each(this.g.loss!, d.lossPct, 1 / 100);
        each(this.g.reordered!, d.reordered, 1);
        each(this.g.duplicates!, d.duplicates, 1);
        if (d.mos) set(this.g.mos!, l, d.mos.overall);
      } else if (p.kind === 'nat') {
        const d = p.data as unknown as NatData;
        if (d.mapping) set(this.g.nat!, { ...l, mapping: d.mapping, filtering: d.filtering, needs_relay: String(d.needsRelay) }, 1);
      }
    }
  }
}
