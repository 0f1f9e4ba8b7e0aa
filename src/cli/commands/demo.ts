/**
 * `netcheck demo`: the built-in lab (src/lab/demo.ts) run through the same options, progress,
 * Ctrl-C handling and output as every probing command.
 */
import { runCheck } from '../../engine/check.js';
import { EXIT } from '../../errors.js';
import type { Report } from '../../types.js';
import { checkRunOptions } from '../options.js';
import { emitReport, interruptControllers } from '../output.js';
import { makeProgress, startInfo } from '../progress.js';

export async function demoCommand({ argv }: { argv: Record<string, unknown> }): Promise<number> {
  const { labSupport } = await import('../../lab/netns.js');
  const { loopbackDemo, netnsDemo, selfCheck } = await import('../../lab/demo.js');
  const o = checkRunOptions({ ...argv, control: argv.control });
  const support = labSupport();
  const useNetns = support.ok && !argv.loopback;
  if (!useNetns && !o.quiet) {
    process.stderr.write(
      `netcheck demo: loopback lab (${argv.loopback ? '--loopback' : support.ok ? '' : support.why}); a firewall's silence and ICMP cannot be staged on loopback, so 'filtered' and 'unreachable' are not shown. Run as root with nftables installed for the full lab.\n`,
    );
  }
  const timeout = argv.timeout ? String(argv.timeout) : '1500ms';
  let report: Report;
  let firewall: boolean;
  if (useNetns) {
    firewall = true;
    const r = await netnsDemo(timeout, o.quiet);
    if (!r) return EXIT.INTERRUPTED;
    report = r;
  } else {
    firewall = false;
    report = await loopbackDemo({ ...o, timeoutMs: o.timeoutMs ?? 1500 }, async (plan, opts) => {
      const progress = makeProgress('demo', o.quiet);
      const signals = interruptControllers(o.quiet);
      progress.start(startInfo(plan));
      try {
        const r = await runCheck(plan, { ...o, ...opts, stopSignal: signals.stop.signal, hardSignal: signals.hard.signal, onResult: progress.onResult });
        progress.end();
        return r;
      } finally {
        signals.dispose();
      }
    });
  }
  await emitReport(report, o);
  if (report.interrupted) return EXIT.INTERRUPTED;
  const problems = selfCheck(report, firewall);
  if (!o.quiet) {
    const statuses = [...new Set(report.probes.map((p) => p.status))];
    process.stderr.write(
      problems.length === 0
        ? `netcheck demo: self-check passed — every staged behaviour showed up as its status (${statuses.join(', ')}).\n` +
            `Next: netcheck plan eschat --signaling-port 7400, then on a real network: netcheck eschat --signaling-port 7400\n`
        : `netcheck demo: self-check FAILED on this machine:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
    );
  }
  return problems.length === 0 ? EXIT.OK : EXIT.FAILED;
}

