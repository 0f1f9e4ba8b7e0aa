// Bench fixture: many TCP listeners and UDP echo sockets (every address × every port of each group),
// run inside a namespace the bench created. Prints one JSON line when all are bound; runs until
// killed. UDP sockets are bound per address so replies leave from the address that was probed.
// Usage: node bench/listeners.mjs '{"tcp":[{"addrs":["127.1.0.2"],"ports":[9000]}],"udp":[…]}'
//    or: node bench/listeners.mjs @FILE (the same JSON in a file: 8,192 addresses exceed an argument's size limit)
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';

const arg = process.argv[2];
const spec = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
const closers = [];
let tcp = 0;
let udp = 0;
for (const g of spec.tcp ?? []) {
  for (const host of g.addrs) {
    for (const port of g.ports) {
      const srv = createServer((s) => {
        s.on('error', () => {}); // probes close with RST: expected
        s.resume();
      });
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ host, port, backlog: 1024 }, resolve);
      });
      closers.push(() => srv.close());
      tcp++;
    }
  }
}
for (const g of spec.udp ?? []) {
  for (const host of g.addrs) {
    for (const port of g.ports) {
      const s = createSocket('udp4');
      s.on('message', (m, r) => s.send(m, r.port, r.address));
      s.on('error', () => {});
      await new Promise((resolve, reject) => {
        s.once('error', reject);
        s.bind(port, host, resolve);
      });
      closers.push(() => s.close());
      udp++;
    }
  }
}
process.stdout.write(`${JSON.stringify({ ready: true, tcp, udp })}\n`);
process.on('SIGTERM', () => closers.forEach((c) => c()));
