import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { runCheck } from '../../engine/check.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { checkRunOptions, paramsFromArgv, expandOptionsFromArgv } from '../options.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';
import { EXIT } from '../../errors.js';
import { pathOptionsFromArgv } from '../path-options.js';
import { askMissingParams, canPrompt } from '../prompt.js';
import { makeProgress, startInfo } from '../progress.js';
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
  const params = paramsFromArgv(argv);
  // A required parameter left out: asked for on a terminal; otherwise its lines are not checked.
  if (canPrompt() && (await askMissingParams(cat.def, params, { input: process.stdin, output: process.stderr, terminal: true })) === 'interrupted') {
    return EXIT.INTERRUPTED;
  }
  const plan = expandCatalog(cat, {
    params,
    ...expandOptionsFromArgv(argv),
    ...(awsIpRanges ? { awsIpRanges } : {}),
    missingRequired: 'not-checked',
  });
  if (!o.quiet) for (const m of plan.missingParams) process.stderr.write(`netcheck: not checking ${m.lines.join(', ')}: ${m.instruction}\n`);
  // --timers: the document's idle timers, measured against a reflector (minutes; said up front).
  const timerPlan = timerPlanFromArgv(argv);
  const timerRun = timerPlan ? addTimerChecks(plan, timerPlan) : undefined;
  if (timerRun && timerPlan && !o.quiet) process.stderr.write(timerNotice(plan, timerRun.runMs, timerPlan.reflector));
  const timerProgress = makeTimerProgress(o.quiet || !timerRun);
  const progress = makeProgress(cat.def.id, o.quiet);
  const signals = interruptControllers(o.quiet);
  progress.start(startInfo(plan));
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
