#!/usr/bin/env node
// Thin shim: all logic (and the only exit-code decisions) live in dist/cli/main.js.
//
// Ctrl-C and SIGTERM are caught before anything else, even before the CLI's modules load: the
// default action would kill a run in its first second without a report. What arrives is recorded
// here and handed to dist/cli/signals.js once it loads (issue 11).
const early = { received: [], forward: undefined };
globalThis[Symbol.for('netcheck.signals')] = early;
const onSignal = (sig) => {
  early.received.push(sig);
  if (early.forward) early.forward(sig);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('netcheck: not built yet — run `npm install` (or `npm run build`) first\n');
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`netcheck: internal error: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 70;
});
