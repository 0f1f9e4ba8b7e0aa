/**
 * Presentation helpers shared by the Markdown, HTML and JUnit renderers, so every format says the
 * same headline and reads idle-timer results the same way. Pure.
 */
import type { Report, Verdict } from '../types.js';

export const VERDICT_LABEL: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', partial: 'PARTIAL', inconclusive: 'INCONCLUSIVE' };

/** The one-sentence result, worded like the terminal report. */
export function headline(report: Report): string {
  const s = report.summary;
  if (report.diagnoses.some((d) => d.code === 'NO_OUTBOUND_CONNECTIVITY')) return 'RESULT: no outbound connectivity (see below)';
  if (s.requiredFailing > 0) return `RESULT: ${s.requiredFailing} required line(s) failing`;
  if (s.requiredInconclusive > 0) return `RESULT: no required line failed, ${s.requiredInconclusive} inconclusive`;
  return 'RESULT: every required line passes';
}

/** One idle flow of a timer check, as far as the report says. */
export interface IdleFlow {
  protocol: string;
  /** Which check or timer it belongs to. */
  label: string;
  gapMs: number;
  survived: boolean;
  /** How it was lost (reset, silent drop, ICMP, NAT remap), when it was. */
  how?: string;
  /** The required idle time it is judged against, when known. */
  requiredMs?: number;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

function flowsOf(raw: unknown, protocol: string, label: string, requiredMs: number | undefined): IdleFlow[] {
  if (!Array.isArray(raw)) return [];
  const out: IdleFlow[] = [];
  for (const f of raw) {
    if (!f || typeof f !== 'object') continue;
    const r = f as Record<string, unknown>;
    const gapMs = typeof r.gapMs === 'number' ? r.gapMs : typeof r.gapSeconds === 'number' ? r.gapSeconds * 1000 : undefined;
    if (gapMs === undefined || typeof r.survived !== 'boolean') continue;
    const how = str(r.how) ?? str(r.lostHow) ?? str(r.loss) ?? str(r.reason);
    out.push({ protocol: str(r.protocol) ?? protocol, label, gapMs, survived: r.survived, ...(how && !r.survived ? { how } : {}), ...(requiredMs ? { requiredMs } : {}) });
  }
  return out;
}

/**
 * Idle flows measured by timer checks, from wherever the report holds them: measured `timers`
 * entries with a `flows` array, or probe results whose `data.flows` lists them (tcp-idle,
 * udp-idle, ws-idle). Empty when nothing was measured: unmeasured timers are not flows.
 */
export function idleFlows(report: Report): IdleFlow[] {
  const out: IdleFlow[] = [];
  for (const t of report.timers ?? []) {
    const r = t as unknown as Record<string, unknown>;
    out.push(...flowsOf(r.flows, t.protocol, t.id, t.seconds * 1000));
  }
  for (const p of report.probes) {
    const d = p.data;
    if (!d) continue;
    const req = typeof d.requiredMs === 'number' ? d.requiredMs : typeof d.requiredSeconds === 'number' ? d.requiredSeconds * 1000 : undefined;
    out.push(...flowsOf(d.flows, p.kind.replace(/-idle$|-hold$/, ''), p.line, req));
  }
  return out;
}

/** Milliseconds from the run's start to an ISO timestamp (0 when unparsable). */
export function offsetMs(report: Report, iso: string): number {
  const t = Date.parse(iso) - Date.parse(report.startedAt);
  return Number.isFinite(t) && t > 0 ? t : 0;
}
