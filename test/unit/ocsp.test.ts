/**
 * The ocsp prober against a REAL OCSP responder (`openssl ocsp` serving an index with good, revoked
 * and unknown certificates), a responder signing with the wrong key, block pages, garbage, a closed
 * port, and a real forward proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLookup } from '../../src/engine/run.js';
import { KINDS, PROBERS, loadProbers } from '../../src/probers/index.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec } from '../../src/types.js';
import { proxySettings } from '../../src/net/proxy.js';
import { Pki, startOcspResponder, type Issued } from '../helpers/pki.js';
import { forwardProxy, routeServer, tlsServer, type Closeable } from '../helpers/trust-servers.js';
import { runCli } from '../helpers/cli.js';

// Probers load on demand (src/probers/index.ts); these tests call them directly.
beforeAll(() => loadProbers(KINDS));

const pki = new Pki('nc-ocsp-');
let ca: Issued;
let good: Issued;
let revoked: Issued;
let unknown: Issued;
let delegated: Issued;
let other: Issued;
const stops: (() => Promise<void>)[] = [];
let responder: { port: number };
let delegatedResponder: { port: number };
let wrongResponder: { port: number };
let pages: Closeable & { hits: string[] };

async function probe(url: string, options: Record<string, unknown> = {}, timeoutMs = 4000, extra: Partial<ProbeContext> = {}): Promise<ProbeOutcome> {
  const u = new URL(url);
  const spec: ProbeSpec = { id: 'o', line: 'o', kind: 'ocsp', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), options: { url, ...options }, timeoutMs };
  return PROBERS.ocsp!(spec, { signal: AbortSignal.timeout(timeoutMs), timeoutMs, lookup: makeLookup(), ...extra });
}

beforeAll(async () => {
  ca = pki.ca('ca', '/O=Netcheck Test/CN=Netcheck OCSP Test CA');
  good = pki.issue('good', ca, '/CN=good.test', { serial: 0x1001 });
  revoked = pki.issue('revoked', ca, '/CN=revoked.test', { serial: 0x1002 });
  unknown = pki.issue('unknown', ca, '/CN=unknown.test', { serial: 0x1003 });
  delegated = pki.issue('responder', ca, '/CN=Netcheck OCSP Responder', { serial: 0x1004, eku: 'OCSPSigning' });
  other = pki.ca('other', '/CN=Some Other CA');
  const index = pki.index('index.txt', [good], [revoked]);
  for (const [signer, set] of [
    [ca, (r: { port: number }) => (responder = r)],
    [delegated, (r: { port: number }) => (delegatedResponder = r)],
    [other, (r: { port: number }) => (wrongResponder = r)],
  ] as const) {
    const r = await startOcspResponder(pki, index, ca, signer);
    stops.push(r.stop);
    set(r);
  }
  pages = await routeServer({
    '/blocked': (_q, s) => {
      s.writeHead(200, { 'content-type': 'text/html' });
      s.end('<!DOCTYPE html><html><body>This site is blocked by your organisation</body></html>');
    },
    '/garbage': (_q, s) => {
      s.writeHead(200, { 'content-type': 'application/ocsp-response' });
      s.end(Buffer.from('this is not DER at all, just text pretending'));
    },
    '/huge': (_q, s) => {
      s.writeHead(200, { 'content-type': 'application/ocsp-response' });
      s.end(Buffer.alloc(200 * 1024, 0x30));
    },
  });
  stops.push(pages.close);
}, 60_000);

afterAll(async () => {
  await Promise.all(stops.map((s) => s()));
  pki.cleanup();
});

describe('ocsp prober: level 3 against openssl ocsp', () => {
  it('good: a signed, fresh answer with the nonce echoed', async () => {
    const o = await probe(`http://127.0.0.1:${responder.port}/`, { cert: good.cert, issuer: ca.cert });
    expect(o.status).toBe('ok');
    expect(o.reason).toBe('OCSP_GOOD');
    const d = o.data as any;
    expect(d.level).toBe(3);
    expect(d.certStatus).toBe('good');
    expect(d.signatureVerified).toBe(true);
    expect(d.signer).toBe('issuer');
    expect(d.nonce).toBe('matched');
    expect(Date.parse(d.thisUpdate)).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(Date.parse(d.nextUpdate)).toBeGreaterThan(Date.now());
    expect(d.route).toBe('direct');
  });

  it('revoked, with the revocation time', async () => {
    const o = await probe(`http://127.0.0.1:${responder.port}/`, { cert: revoked.cert, issuer: ca.cert });
    expect(o.reason).toBe('OCSP_REVOKED');
    expect((o.data as any).level).toBe(3);
    expect((o.data as any).certStatus).toBe('revoked');
    expect(Date.parse((o.data as any).revocationTime)).toBeLessThan(Date.now());
  });

  it('unknown: a certificate the responder has no record of', async () => {
    const o = await probe(`http://127.0.0.1:${responder.port}/`, { cert: unknown.cert, issuer: ca.cert });
    expect(o.reason).toBe('OCSP_UNKNOWN');
    expect((o.data as any).certStatus).toBe('unknown');
    expect((o.data as any).level).toBe(3);
  });

  it('over IPv6 (the responder listens on [::])', async () => {
    const o = await probe(`http://[::1]:${responder.port}/`, { cert: good.cert, issuer: ca.cert });
    expect(o.reason).toBe('OCSP_GOOD');
    expect(o.address).toBe('::1');
  });

  it('a delegated responder certificate with id-kp-OCSPSigning is accepted', async () => {
    const o = await probe(`http://127.0.0.1:${delegatedResponder.port}/`, { cert: good.cert, issuer: ca.cert });
    expect(o.reason).toBe('OCSP_GOOD');
    expect((o.data as any).signer).toBe('delegated');
  });

  it('an answer signed by a key the CA never authorised stays at level 2', async () => {
    const o = await probe(`http://127.0.0.1:${wrongResponder.port}/`, { cert: good.cert, issuer: ca.cert });
    expect(o.status).toBe('error');
    expect(o.reason).toBe('OCSP_BAD_SIGNATURE');
    expect((o.data as any).level).toBe(2);
    expect((o.data as any).signatureVerified).toBe(false);
  });
});

describe('ocsp prober: lower levels', () => {
  it('without a certificate, an OCSP answer proves level 2 and says level 3 needs one', async () => {
    const o = await probe(`http://127.0.0.1:${responder.port}/`);
    expect(o.status).toBe('ok');
    expect(o.reason).toBe('OCSP_RESPONDER_ANSWERED');
    expect((o.data as any).level).toBe(2);
  });

  it('an HTML block page is level 1', async () => {
    const o = await probe(`http://127.0.0.1:${pages.port}/blocked`, { cert: good.cert, issuer: ca.cert });
    expect(o.status).toBe('refused');
    expect(o.reason).toBe('HTTP_BLOCK_PAGE');
    expect((o.data as any).level).toBe(1);
  });

  it('garbage over HTTP 200 is level 2, not ok', async () => {
    const o = await probe(`http://127.0.0.1:${pages.port}/garbage`, { cert: good.cert, issuer: ca.cert });
    expect(o.status).toBe('error');
    expect(o.reason).toBe('OCSP_GARBAGE');
    expect((o.data as any).level).toBe(2);
  });

  it('an answer larger than the cap is not read', async () => {
    const o = await probe(`http://127.0.0.1:${pages.port}/huge`, { cert: good.cert, issuer: ca.cert });
    expect(o.reason).toBe('RESPONSE_TOO_LARGE');
    expect((o.data as any).level).toBe(2);
  });

  it('a closed port is level 0, refused', async () => {
    const s = await routeServer({});
    const port = s.port;
    await s.close();
    const o = await probe(`http://127.0.0.1:${port}/`, { cert: good.cert, issuer: ca.cert });
    expect(o.status).toBe('refused');
    expect((o.data as any).level).toBe(0);
  });
});

describe('ocsp through a forward proxy', () => {
  it('reaches level 3 through the proxy, which saw an absolute-form POST', async () => {
    const px = await forwardProxy();
    stops.push(px.close);
    const proxy = proxySettings(`http://127.0.0.1:${px.port}`, {});
    const o = await probe(`http://127.0.0.1:${responder.port}/`, { cert: good.cert, issuer: ca.cert }, 4000, proxy ? { proxy } : {});
    expect(o.reason).toBe('OCSP_GOOD');
    expect((o.data as any).route).toBe('proxy');
    expect(px.connects).toContain(`POST http://127.0.0.1:${responder.port}/`);
  });
});

describe('ocsp about the certificate a TLS server presents (certFrom)', () => {
  it('takes the leaf and issuer from the chain and reaches level 3; without an issuer it stops at 2 and says why', async () => {
    const withIssuer = await tlsServer(revoked.keyPem, revoked.pem + ca.pem);
    const leafOnly = await tlsServer(good.keyPem, good.pem);
    stops.push(withIssuer.close, leafOnly.close);
    const o = await probe(`http://127.0.0.1:${responder.port}/`, { certFrom: `127.0.0.1:${withIssuer.port}` });
    expect(o.reason).toBe('OCSP_REVOKED');
    expect((o.data as any).level).toBe(3);
    expect((o.data as any).certFrom.subject).toContain('revoked.test');
    const p = await probe(`http://127.0.0.1:${responder.port}/`, { certFrom: `127.0.0.1:${leafOnly.port}` });
    expect(p.reason).toBe('OCSP_RESPONDER_ANSWERED');
    expect((p.data as any).level).toBe(2);
    expect((p.data as any).certFrom.error).toBeDefined();
    const r = await runCli(['probe', 'ocsp', `http://127.0.0.1:${responder.port}`, '--cert-from', `127.0.0.1:${withIssuer.port}`, '--json']);
    expect(r.json.probes[0].data.certStatus).toBe('revoked');
    const both = await runCli(['probe', 'ocsp', `http://127.0.0.1:${responder.port}`, '--cert-from', `127.0.0.1:${withIssuer.port}`, '--cert', good.cert, '--issuer', ca.cert]);
    expect(both.code).toBe(2);
  });
});

describe('netcheck probe ocsp (CLI surface)', () => {
  it('--json has level 3 and the certificate status', async () => {
    const r = await runCli(['probe', 'ocsp', `http://127.0.0.1:${responder.port}`, '--cert', revoked.cert, '--issuer', ca.cert, '--json']);
    expect(r.code).toBe(0);
    const p = r.json.probes[0];
    expect(p.kind).toBe('ocsp');
    expect(p.data.level).toBe(3);
    expect(p.data.certStatus).toBe('revoked');
  });

  it('--cert without --issuer, and a file that is no certificate, are usage errors', async () => {
    const a = await runCli(['probe', 'ocsp', `http://127.0.0.1:${responder.port}`, '--cert', good.cert]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--issuer');
    const notCert = pki.write('not-a-cert.pem', 'hello\n');
    const b = await runCli(['probe', 'ocsp', `http://127.0.0.1:${responder.port}`, '--cert', notCert, '--issuer', ca.cert]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--cert');
    const c = await runCli(['probe', 'ocsp', 'ftp://127.0.0.1/', '--cert', good.cert, '--issuer', ca.cert]);
    expect(c.code).toBe(2);
  });
});
