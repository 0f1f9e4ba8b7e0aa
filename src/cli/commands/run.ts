import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { runCheck } from '../../engine/check.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { checkRunOptions, paramsFromArgv } from '../options.js';
import { emitReport, exitCodeFor, interruptControllers } from '../output.js';
import { makeProgress } from '../progress.js';

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
    sweep: !!argv.sweep,
    ...(typeof argv.sample === 'number' ? { sampleCount: argv.sample } : {}),
    ...(typeof argv['max-targets'] === 'number' ? { maxSweepTargets: argv['max-targets'] } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(Array.isArray(argv.only) ? { kinds: (argv.only as string[]).map(String) } : {}),
    ...(awsIpRanges ? { awsIpRanges } : {}),
  });
  const progress = makeProgress(cat.def.id, o.quiet);
  const signals = interruptControllers(o.quiet);
  try {
    const report = await runCheck(plan, {
      ...o,
      stopSignal: signals.stop.signal,
      hardSignal: signals.hard.signal,
      onResult: progress.onResult,
    });
    progress.end();
    await emitReport(report, o);
    return exitCodeFor(report);
  } finally {
    signals.dispose();
  }
}
