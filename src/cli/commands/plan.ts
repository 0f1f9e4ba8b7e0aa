import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { EXIT } from '../../errors.js';
import { formatPorts, hostPort } from '../../util/ip.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { controlFromArgv, paramsFromArgv, expandOptionsFromArgv } from '../options.js';
import { controlSpec } from '../../engine/check.js';
import { addTimerChecks, timerPlanFromArgv } from '../timers.js';
import { timerLineId } from '../../catalog/timers.js';
import { formatDuration } from '../../util/duration.js';

const CONTROL_DESCRIPTION = 'interception control: an address that must never answer; a handshake means something on this network answers connections itself';

/** `netcheck plan <catalog>`: every probe the run would send. Sends nothing. */
export async function planCommand({ catalog, argv }: { catalog: string; argv: Record<string, unknown> }): Promise<number> {
  const cat = loadCatalog(catalog);
  const awsIpRanges = await ipRangesFromArgv(argv);
  const plan = expandCatalog(cat, {
    params: paramsFromArgv(argv),
    ...expandOptionsFromArgv(argv),
    ...(awsIpRanges ? { awsIpRanges } : {}),
    // As a run would: lines needing a required parameter that is absent are listed as not checked.
    missingRequired: 'not-checked',
  });
  // --timers: the idle-timer checks a run would add (issue 3), with their gaps and deadlines.
  const timerPlan = timerPlanFromArgv(argv);
  if (timerPlan) addTimerChecks(plan, timerPlan);
  const timerOf = (line: string) => plan.catalog.timers?.find((t) => timerLineId(t.id) === line);
  const lineInfo = new Map(plan.lines.map((l) => [l.id, l]));
  const rows = plan.probes.map((p) => {
    const l = lineInfo.get(p.line);
    const timer = l ? undefined : timerOf(p.line);
    const skip = plan.skipped.get(p.id);
    return {
      id: p.id,
      line: p.line,
      section: l?.section.id ?? 'timers',
      description: l?.def.description ?? timer?.description ?? p.line,
      required: l ? (l.def.required ?? true) : true,
      kind: p.kind,
      host: p.host,
      port: p.port ?? null,
      timeoutMs: p.timeoutMs,
      ...(p.sampledFrom ? { sampledFrom: p.sampledFrom } : {}),
      ...(Object.keys(p.options).length ? { options: p.options } : {}),
      ...(skip ? { skip } : {}),
      source: l ? (l.def.source ?? l.section.source ?? plan.catalog.source) : (timer?.source ?? plan.catalog.source),
    };
  });
  // The interception control is a packet the run sends too (a destination that must never answer).
  const control = controlSpec(plan, { control: controlFromArgv(argv) });
  const controlRow = control && {
    id: control.id,
    line: control.line,
    section: 'control',
    description: CONTROL_DESCRIPTION,
    required: false,
    kind: control.kind,
    host: control.host,
    port: control.port ?? null,
    timeoutMs: control.timeoutMs,
    source: 'netcheck',
  };
  if (argv.json) {
    process.stdout.write(JSON.stringify(controlRow ? [...rows, controlRow] : rows, null, 2) + '\n');
    return EXIT.OK;
  }
  const byId = new Map(plan.probes.map((p) => [p.id, p]));
  const out: string[] = [`plan for ${plan.catalog.id}: ${rows.length} probes over ${plan.lines.length} documented lines${control ? ', and 1 control probe' : ''} (nothing sent)`];
  for (const m of plan.missingParams) out.push(`not checked (${m.lines.join(', ')}): ${m.instruction}`);
  for (const l of plan.lines) {
    const tags = [l.def.role?.replace('-', ' '), l.def.required === false ? 'optional' : undefined, l.def.condition].filter(Boolean).join(', ');
    out.push(`\n${l.id} — ${l.def.description}${tags ? ` (${tags})` : ''}`);
    if (l.notRun) out.push(`  (${l.notRun})`);
    if (l.awsRanges) {
      const a = l.awsRanges;
      out.push(`  ${a.file}: ${a.matched} ${a.services.join('+')} prefixes${a.region ? ` in ${a.region} (and GLOBAL)` : ' in every region'}, ${a.probed} probed${a.probed < a.matched ? ' (spread; --sweep for all)' : ''}`);
    }
    for (const s of l.sampling) out.push(`  ${s.strategy === 'all' ? 'sweep' : `sample ${s.sampled} (${s.strategy})`} of ${s.cidr} (${s.rangeSize} addresses)`);
    // One row per kind and host, ports compressed (a 64-port UDP range is one row, not 64).
    const rowsOf = new Map<string, { kind: string; host: string; ports: number[]; skip?: string }>();
    for (const id of l.probeIds) {
      const p = byId.get(id)!;
      // URL targets (ocsp, crl): one row per URL, shown as the URL.
      const url = typeof p.options.url === 'string' ? p.options.url : undefined;
      const k = `${p.kind} ${url ?? p.host}`;
      const row = rowsOf.get(k) ?? { kind: p.kind, host: url ?? p.host, ports: [], ...(plan.skipped.has(id) ? { skip: plan.skipped.get(id)! } : {}) };
      if (p.port !== undefined && !url) row.ports.push(p.port);
      rowsOf.set(k, row);
    }
    for (const r of rowsOf.values()) {
      const where = r.ports.length ? `${hostPort(r.host)}:${formatPorts(r.ports)}` : r.host;
      // A missing required parameter's instruction is printed once, at the top.
      const missing = plan.missingParams.find((m) => m.instruction === r.skip);
      const skip = missing ? `  (not checked: needs --${missing.name}, see above)` : r.skip ? `  (skipped: ${r.skip})` : '';
      out.push(`  ${r.kind.padEnd(5)} ${where}${r.ports.length > 1 ? `  (${r.ports.length} probes)` : ''}${skip}`);
    }
  }
  for (const p of plan.probes.filter((q) => !lineInfo.has(q.line))) {
    const o = p.options as { requireMs?: number; gapsMs?: number[] };
    out.push(`\n${p.line} — ${timerOf(p.line)?.description ?? ''}`);
    out.push(`  ${p.kind} ${hostPort(p.host, p.port)}  gaps ${(o.gapsMs ?? []).map(formatDuration).join(', ')}; required ${formatDuration(o.requireMs ?? 0)}; deadline ${formatDuration(p.timeoutMs)}`);
  }
  if (control) {
    out.push(`\ncontrol — ${CONTROL_DESCRIPTION} (--no-control to leave it out)`);
    out.push(`  ${control.kind.padEnd(5)} ${hostPort(control.host, control.port)}`);
  }
  for (const n of plan.notApplicable) out.push(`\nnot applicable: ${n.id} (${n.reason})`);
  process.stdout.write(out.join('\n') + '\n');
  return EXIT.OK;
}
