import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { runCheck } from '../../engine/check.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { checkRunOptions, paramsFromArgv, expandOptionsFromArgv } from '../options.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';
import { pathOptionsFromArgv } from '../path-options.js';
import { makeProgress } from '../progress.js';
import { addTimerChecks, makeTimerProgress, reflectorCredentials, timerNotice, timerPlanFromArgv } from '../timers.js';

export interface RunCommandInput {
  catalog: string;
  argv: Record<string, unknown>;
}

/** `netcheck <catalog>` and `netcheck run --catalog FILE`. */
export async function runCommand({ catalog, argv }: RunCommandInput): Promise<number> {
  const o = checkRunOptions(argv);
  const cat = loadCatalog(catalog);
  const awsIpRanges = await ipRangesFromArgv(argv);
  const plan = expandCatalog(cat, {
    params: paramsFromArgv(argv),
    ...expandOptionsFromArgv(argv),
    ...(awsIpRanges ? { awsIpRanges } : {}),
  });
  // --timers: the document's idle timers, measured against a reflector (minutes; said up front).
  const timerPlan = timerPlanFromArgv(argv);
  const timerRun = timerPlan ? addTimerChecks(plan, timerPlan) : undefined;
  if (timerRun && timerPlan && !o.quiet) process.stderr.write(timerNotice(plan, timerRun.runMs, timerPlan.reflector));
  const timerProgress = makeTimerProgress(o.quiet || !timerRun);
  const progress = makeProgress(cat.def.id, o.quiet);
  const signals = interruptControllers(o.quiet);
  try {
    const report = await runCheck(plan, {
      ...o,
      stopSignal: signals.stop.signal,
      hardSignal: signals.hard.signal,
      onResult: progress.onResult,
      // The reflector's secret and certificate pin serve timer checks and catalog reflector lines alike.
      ...reflectorCredentials(argv),
      ...(timerRun ? { onProgress: timerProgress.onProgress } : {}),
      // Failed lines are traced by default; portal and DNS interception checks when asked or implied.
      ...pathOptionsFromArgv(argv, { traceByDefault: true, plan, quiet: o.quiet }),
    });
    progress.end();
    timerProgress.end();
    await emitReport(report, o);
    return exitCodeFor(report);
  } finally {
    signals.dispose();
  }
}
