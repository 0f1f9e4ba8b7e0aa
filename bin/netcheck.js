#!/usr/bin/env node
// Thin shim: all logic (and the only exit-code decisions) live in dist/cli/main.js.
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2))).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    process.stderr.write('netcheck: not built yet — run `npm install` (or `npm run build`) first\n');
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`netcheck: internal error: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 70;
});
