// Fixture for lab tests (run inside a network namespace):
//   node serve-trust.mjs proxy HOST [USER:PASS]      a real forward/CONNECT proxy (npm `proxy`)
//   node serve-trust.mjs tls HOST KEYFILE CERTFILE   a TLS server that greets and closes
//   node serve-trust.mjs mitm HOST KEYFILE CERTFILE UPSTREAM_HOST UPSTREAM_PORT
//                                                    an intercepting TLS proxy: re-signs, relays upstream
// Prints one JSON line {"ready":true,"port":N} and runs until killed.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { createProxy } from 'proxy';

const [what, host, a, b, upHost, upPort] = process.argv.slice(2);
let server;
if (what === 'proxy') {
  server = createProxy(createHttpServer());
  if (a) {
    const expected = `Basic ${Buffer.from(a).toString('base64')}`;
    server.authenticate = (req) => req.headers['proxy-authorization'] === expected;
  }
} else if (what === 'tls') {
  server = createTlsServer({ key: readFileSync(a), cert: readFileSync(b) }, (s) => {
    s.on('error', () => {});
    s.end('hello\n');
  });
  server.on('tlsClientError', () => {});
} else if (what === 'mitm') {
  server = createTlsServer({ key: readFileSync(a), cert: readFileSync(b) }, (client) => {
    client.on('error', () => {});
    const up = tlsConnect({ host: upHost, port: Number(upPort), rejectUnauthorized: false });
    up.on('error', () => client.destroy());
    client.pipe(up).pipe(client);
  });
  server.on('tlsClientError', () => {});
} else {
  console.error(`unknown fixture ${what}`);
  process.exit(2);
}
server.listen(0, host, () => {
  process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port })}\n`);
});
