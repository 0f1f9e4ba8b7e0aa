/**
 * The crl prober against CRLs made by `openssl ca -gencrl` and served over HTTP on loopback: fresh
 * (DER and PEM), expired, signed by another CA, garbage, oversized (announced and streamed), a
 * block page, a proxy 403, and a closed port.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLookup } from '../../src/engine/run.js';
import { KINDS, PROBERS, loadProbers } from '../../src/probers/index.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec } from '../../src/types.js';
import { proxySettings } from '../../src/net/proxy.js';
import { Pki, osslTime, type Issued } from '../helpers/pki.js';
import { blockingProxy, routeServer, stallServer, type Closeable } from '../helpers/trust-servers.js';
import { runCli } from '../helpers/cli.js';
import { byDeadline } from '../helpers/wait.js';

// Probers load on demand (src/probers/index.ts); these tests call them directly.
beforeAll(() => loadProbers(KINDS));

const pki = new Pki('nc-crl-');
let ca: Issued;
let other: Issued;
let server: Closeable & { hits: string[] };
const closers: (() => Promise<void>)[] = [];
const HOUR = 3600_000;

async function probe(path: string, options: Record<string, unknown> = {}, timeoutMs = 4000, extra: Partial<ProbeContext> = {}): Promise<ProbeOutcome & { ms: number }> {
  const url = `http://127.0.0.1:${server.port}${path}`;
  const spec: ProbeSpec = { id: 'c', line: 'c', kind: 'crl', host: '127.0.0.1', port: server.port, options: { url, ...options }, timeoutMs };
  const t0 = performance.now();
  const o = await PROBERS.crl!(spec, { signal: AbortSignal.timeout(timeoutMs), timeoutMs, lookup: makeLookup(), ...extra });
  return { ...o, ms: performance.now() - t0 };
}

beforeAll(async () => {
  ca = pki.ca('ca', '/O=Netcheck Test/CN=Netcheck CRL Test CA');
  other = pki.ca('other', '/CN=Some Other CA');
  const r1 = pki.issue('r1', ca, '/CN=revoked-one.test', { serial: 0x2001 });
  const r2 = pki.issue('r2', ca, '/CN=revoked-two.test', { serial: 0x2002 });
  const index = pki.index('index.txt', [], [r1, r2]);
  const fresh = pki.crl('fresh', ca, index, osslTime(-HOUR), osslTime(24 * HOUR));
  const expired = pki.crl('expired', ca, index, osslTime(-48 * HOUR), osslTime(-24 * HOUR));
  const otherIndex = pki.index('other-index.txt', [], []);
  const foreign = pki.crl('foreign', other, otherIndex, osslTime(-HOUR), osslTime(24 * HOUR));
  const der = (b: Buffer) => (_q: unknown, s: import('node:http').ServerResponse) => {
    s.writeHead(200, { 'content-type': 'application/pkix-crl' });
    s.end(b);
  };
  server = await routeServer({
    '/fresh.crl': der(fresh.der),
    '/fresh.pem': (_q, s) => {
      s.writeHead(200, { 'content-type': 'application/x-pem-file' });
      s.end(fresh.pem);
    },
    '/expired.crl': der(expired.der),
    '/foreign.crl': der(foreign.der),
    '/garbage.crl': der(Buffer.from('\x30\x82garbage-that-is-not-a-crl-at-all')),
    '/announced-huge.crl': (_q, s) => {
      s.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': String(50 * 1024 * 1024) });
      s.write(Buffer.alloc(1024));
      // Never finishes: the prober must not wait for 50 MiB.
    },
    '/streamed-huge.crl': (_q, s) => {
      s.writeHead(200, { 'content-type': 'application/pkix-crl' });
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      s.on('error', () => undefined);
      pump();
    },
    '/portal': (_q, s) => {
      s.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      s.end('<html><head><title>Login</title></head><body>Captive portal</body></html>');
    },
    '/trickle.crl': (_q, s) => {
      s.writeHead(200, { 'content-type': 'application/pkix-crl' });
      const t = setInterval(() => s.write(Buffer.from([0x30])), 100);
      s.on('close', () => clearInterval(t));
    },
    '/gone.crl': (_q, s) => {
      s.writeHead(404, { 'content-type': 'application/octet-stream' });
      s.end();
    },
  });
  closers.push(server.close);
}, 60_000);

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  pki.cleanup();
});

describe('crl prober', () => {
  it('a fresh CRL signed by its issuer reaches level 3', async () => {
    const o = await probe('/fresh.crl', { issuer: ca.cert });
    expect(o.status).toBe('ok');
    expect(o.reason).toBe('CRL_FRESH');
    const d = o.data as any;
    expect(d.level).toBe(3);
    expect(d.signatureVerified).toBe(true);
    expect(d.revokedCount).toBe(2);
    expect(d.issuer).toContain('CN=Netcheck CRL Test CA');
    expect(Date.parse(d.nextUpdate)).toBeGreaterThan(Date.now());
  });

  it('PEM is accepted too; without an issuer the signature is not checked (null, not false)', async () => {
    const o = await probe('/fresh.pem');
    expect(o.reason).toBe('CRL_FRESH');
    expect((o.data as any).level).toBe(3);
    expect((o.data as any).signatureVerified).toBeNull();
  });

  it('an expired CRL stays at level 2', async () => {
    const o = await probe('/expired.crl', { issuer: ca.cert });
    expect(o.status).toBe('error');
    expect(o.reason).toBe('CRL_EXPIRED');
    expect((o.data as any).level).toBe(2);
  });

  it('a CRL from another CA is not the issuer’s', async () => {
    const o = await probe('/foreign.crl', { issuer: ca.cert });
    expect(o.reason).toBe('CRL_WRONG_ISSUER');
    expect((o.data as any).level).toBe(2);
  });

  it('garbage is level 2, CRL_GARBAGE', async () => {
    const o = await probe('/garbage.crl');
    expect(o.reason).toBe('CRL_GARBAGE');
    expect((o.data as any).level).toBe(2);
  });

  it('oversized: an announced size over the cap is not downloaded, a streamed one is cut', async () => {
    const a = await probe('/announced-huge.crl', { maxBytes: 1024 * 1024 });
    expect(a.reason).toBe('RESPONSE_TOO_LARGE');
    expect((a.data as any).declaredBytes).toBe(50 * 1024 * 1024);
    expect(a.ms).toBeLessThan(4000 / 2); // refused from the headers, well inside its 4 s deadline
    const b = await probe('/streamed-huge.crl', { maxBytes: 1024 * 1024 });
    expect(b.reason).toBe('RESPONSE_TOO_LARGE');
    expect((b.data as any).level).toBe(2);
  });

  it('a captive portal page is level 1; an HTTP error without a page is level 2', async () => {
    const a = await probe('/portal');
    expect(a.status).toBe('refused');
    expect(a.reason).toBe('HTTP_BLOCK_PAGE');
    expect((a.data as any).level).toBe(1);
    const b = await probe('/gone.crl');
    expect(b.reason).toBe('CRL_HTTP_STATUS');
    expect((b.data as any).level).toBe(2);
    expect((b.data as any).httpStatus).toBe(404);
  });

  it('a proxy that forbids the CRL URL is its own reason, with the redacted proxy', async () => {
    const px = await blockingProxy();
    closers.push(px.close);
    const proxy = proxySettings(`http://alice:s3cret@127.0.0.1:${px.port}`, {})!;
    const o = await probe('/fresh.crl', {}, 4000, { proxy });
    expect(o.status).toBe('refused');
    expect(o.reason).toBe('PROXY_FORBIDDEN');
    expect((o.data as any).level).toBe(1);
    expect((o.data as any).proxy).toBe(`http://***@127.0.0.1:${px.port}`);
    expect(JSON.stringify(o)).not.toContain('s3cret');
  });
});

describe('crl: hostile servers end within the deadline', () => {
  it('no answer after connecting (level 1, timeout), and a body that trickles (level 2, timeout)', async () => {
    const stall = await stallServer();
    closers.push(stall.close);
    const url = `http://127.0.0.1:${stall.port}/x.crl`;
    const t0 = performance.now();
    const a = await PROBERS.crl!({ id: 's', line: 's', kind: 'crl', host: '127.0.0.1', port: stall.port, options: { url }, timeoutMs: 800 }, { signal: AbortSignal.timeout(800), timeoutMs: 800, lookup: makeLookup() });
    expect(a.status).toBe('timeout');
    expect(a.reason).toBe('HTTP_HEADERS_TIMEOUT');
    expect((a.data as any).level).toBe(1);
    expect(performance.now() - t0).toBeLessThan(byDeadline(800));
    const t1 = performance.now();
    const b = await probe('/trickle.crl', {}, 800);
    expect(b.status).toBe('timeout');
    expect(b.reason).toBe('HTTP_BODY_DEADLINE');
    expect((b.data as any).level).toBe(2);
    expect(performance.now() - t1).toBeLessThan(byDeadline(800));
  });
});

describe('crl through a proxy that cannot reach the server', () => {
  it('a gateway error from a forward proxy is the proxy’s answer (level 1), not the server’s', async () => {
    const gw = createServer((req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`cannot reach ${req.url}`);
    });
    await new Promise<void>((r) => gw.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => gw.close(() => r())));
    const proxy = proxySettings(`http://127.0.0.1:${(gw.address() as AddressInfo).port}`, {})!;
    const o = await probe('/fresh.crl', {}, 4000, { proxy });
    expect(o.reason).toBe('PROXY_UPSTREAM_FAILED');
    expect((o.data as any).level).toBe(1);
    expect((o.data as any).route).toBe('proxy');
  });
});

describe('crl through a forward proxy that is down', () => {
  it('is the proxy’s failure (PROXY_CONNECT_FAILED, level 0), as for the http kind: the server was never asked', async () => {
    const gone = createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', () => r()));
    const port = (gone.address() as AddressInfo).port;
    await new Promise<void>((r) => gone.close(() => r()));
    const proxy = proxySettings(`http://127.0.0.1:${port}`, {})!;
    const o = await probe('/fresh.crl', {}, 4000, { proxy });
    expect([o.status, o.reason]).toEqual(['refused', 'PROXY_CONNECT_FAILED']);
    expect((o.data as any).level).toBe(0);
    expect((o.data as any).route).toBe('proxy');
  });
});

describe('netcheck probe crl (CLI surface)', () => {
  it('--json has the level', async () => {
    const r = await runCli(['probe', 'crl', `http://127.0.0.1:${server.port}/fresh.crl`, '--issuer', ca.cert, '--json']);
    expect(r.code).toBe(0);
    expect(r.json.probes[0].data.level).toBe(3);
    const e = await runCli(['probe', 'crl', `http://127.0.0.1:${server.port}/expired.crl`, '--json']);
    expect(e.code).toBe(1);
    expect(e.json.probes[0].data.level).toBe(2);
    expect(e.json.probes[0].reason).toBe('CRL_EXPIRED');
  });
});
