// The baseline: a minimal TCP connect sweep on raw node:net, as a competent engineer would write it
// in a few lines (fixed concurrency, IP literals, RST on close). No netcheck code is used.
// Usage: node bench/raw-sweep.mjs '{"hosts":[…],"port":9000,"concurrency":256,"timeoutMs":3000}'
//    or: node bench/raw-sweep.mjs @FILE (the same JSON in a file: 65,534 hosts exceed an argument's size limit)
// Prints {"ms":…,"counts":{"open":…,"ECONNREFUSED":…,"timeout":…}}.
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

const arg = process.argv[2];
const { hosts, port, concurrency, timeoutMs } = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
const counts = {};
const bump = (k) => (counts[k] = (counts[k] ?? 0) + 1);

function probe(host) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      bump('timeout');
      s.destroy();
      resolve();
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      bump('open');
      s.resetAndDestroy();
      resolve();
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      bump(e.code ?? 'error');
      resolve();
    });
  });
}

const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, hosts.length) }, async () => {
    while (next < hosts.length) await probe(hosts[next++]);
  }),
);
const ms = performance.now() - t0;
process.stdout.write(`${JSON.stringify({ ms, counts })}\n`);
