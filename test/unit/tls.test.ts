/**
 * The tls prober against real TLS servers on loopback, a CA built by the test with openssl, an
 * intercepting proxy that re-signs with its own CA, and hostile peers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeLookup } from '../../src/engine/run.js';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { KINDS, PROBERS, loadProbers } from '../../src/probers/index.js';
import type { ProbeContext, ProbeOutcome, ProbeSpec } from '../../src/types.js';
import { byDeadline, readyPort } from '../helpers/wait.js';
import { Pki, osslTime, type Issued } from '../helpers/pki.js';
import { garbageServer, interceptingConnectProxy, interceptingTlsProxy, resetServer, stallServer, tlsServer, type Closeable } from '../helpers/trust-servers.js';
import { runCli } from '../helpers/cli.js';

// Probers load on demand (src/probers/index.ts); these tests call them directly.
beforeAll(() => loadProbers(KINDS));

const pki = new Pki('nc-tls-');
let ca: Issued;
let leaf: Issued;
let expired: Issued;
let icpt: Issued;
let icptLeaf: Issued;
let zs: Issued;
let zsLeaf: Issued;
let longChain: string;
let longKey: string;
const servers: Closeable[] = [];
let good: Closeable;

async function probe(port: number, options: Record<string, unknown> = {}, timeoutMs = 3000, ctxExtra: Partial<ProbeContext> = {}): Promise<ProbeOutcome & { ms: number }> {
  const spec: ProbeSpec = { id: 't', line: 't', kind: 'tls', host: '127.0.0.1', port, options, timeoutMs };
  const t0 = performance.now();
  const o = await PROBERS.tls!(spec, { signal: AbortSignal.timeout(timeoutMs), timeoutMs, lookup: makeLookup(), ...ctxExtra });
  return { ...o, ms: performance.now() - t0 };
}

beforeAll(async () => {
  ca = pki.ca('ca', '/O=Netcheck Test/CN=Netcheck Test Root');
  leaf = pki.issue('leaf', ca, '/CN=localhost', { sans: 'DNS:localhost,IP:127.0.0.1', days: 90 });
  expired = pki.issue('expired', ca, '/CN=localhost', { sans: 'DNS:localhost,IP:127.0.0.1', notBefore: osslTime(-10 * 86400_000), notAfter: osslTime(-86400_000) });
  icpt = pki.ca('icpt', '/O=Acme Security Gateway/CN=Acme Inspection CA');
  icptLeaf = pki.issue('icpt-leaf', icpt, '/CN=localhost', { sans: 'DNS:localhost,IP:127.0.0.1' });
  zs = pki.ca('zs', '/O=Zscaler Inc./CN=Zscaler Root CA');
  zsLeaf = pki.issue('zs-leaf', zs, '/CN=localhost', { sans: 'DNS:localhost,IP:127.0.0.1' });
  // A chain of 50: root → 48 intermediates → leaf, all sent by the server.
  let parent = ca;
  const inters: Issued[] = [];
  for (let i = 0; i < 48; i++) {
    parent = pki.issue(`int${i}`, parent, `/CN=Intermediate ${i}`, { ca: true });
    inters.push(parent);
  }
  const longLeaf = pki.issue('long-leaf', parent, '/CN=localhost', { sans: 'IP:127.0.0.1' });
  longChain = [longLeaf.pem, ...inters.reverse().map((c) => c.pem), ca.pem].join('');
  longKey = longLeaf.keyPem;
  good = await tlsServer(leaf.keyPem, leaf.pem + ca.pem);
  servers.push(good);
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  pki.cleanup();
});

describe('tls prober: a genuine server', () => {
  it('reports the chain and no interception when the chain leads to the expected CA', async () => {
    const o = await probe(good.port, { ca: ca.cert });
    expect(o.status).toBe('ok');
    expect(o.reason).toBe('TLS_OK');
    const d = o.data as any;
    expect(d.interception).toBe(false);
    expect(d.interceptionReasons).toEqual([]);
    expect(d.route).toBe('direct');
    expect(d.chain).toHaveLength(2);
    expect(d.chain[0].subject).toContain('CN=localhost');
    expect(d.chain[0].issuer).toContain('Netcheck Test Root');
    expect(d.chain[0].sans).toContain('IP Address:127.0.0.1');
    expect(d.chain[0].spkiSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(d.chain[0].signedByNext).toBe(true);
    expect(d.anchor.stores).toContain('custom');
    expect(d.leaf.expired).toBe(false);
    expect(d.leaf.daysLeft).toBeGreaterThanOrEqual(88);
    expect(o.phases?.tlsMs).toBeGreaterThan(0);
  });

  it('without the expected CA, a private root is an unexpected root (interception: true)', async () => {
    const o = await probe(good.port);
    expect(o.status).toBe('error');
    expect(o.reason).toBe('TLS_INTERCEPTED');
    expect((o.data as any).interception).toBe(true);
    expect((o.data as any).interceptionReasons.map((r: any) => r.code)).toEqual(['UNEXPECTED_ROOT']);
  });

  it('checks expected issuers', async () => {
    const ok = await probe(good.port, { ca: ca.cert, expectIssuers: ['netcheck test'] });
    expect(ok.reason).toBe('TLS_OK');
    expect((ok.data as any).issuerMatch.matched).toEqual(['netcheck test']);
    const bad = await probe(good.port, { ca: ca.cert, expectIssuers: ['DigiCert', 'Sectigo'] });
    expect(bad.reason).toBe('TLS_INTERCEPTED');
    expect((bad.data as any).interceptionReasons.map((r: any) => r.code)).toEqual(['ISSUER_NOT_EXPECTED']);
  });

  it('reports an expired certificate and a name mismatch', async () => {
    const s = await tlsServer(expired.keyPem, expired.pem + ca.pem);
    servers.push(s);
    const o = await probe(s.port, { ca: ca.cert });
    expect(o.reason).toBe('TLS_CERT_EXPIRED');
    expect((o.data as any).leaf.expired).toBe(true);
    const m = await probe(good.port, { ca: ca.cert, servername: 'www.example.com' });
    expect(m.reason).toBe('TLS_HOSTNAME_MISMATCH');
    expect((m.data as any).servername).toBe('www.example.com');
  });
});

describe('tls prober: interception', () => {
  it('catches a transparent proxy that re-signs with its own CA', async () => {
    const mitm = await interceptingTlsProxy(icptLeaf.keyPem, icptLeaf.pem + icpt.pem, { host: '127.0.0.1', port: good.port });
    servers.push(mitm);
    const o = await probe(mitm.port, { ca: ca.cert });
    expect(o.status).toBe('error');
    expect(o.reason).toBe('TLS_INTERCEPTED');
    const d = o.data as any;
    expect(d.interception).toBe(true);
    expect(d.interceptionReasons.map((r: any) => r.code)).toContain('UNEXPECTED_ROOT');
    expect(d.chain[0].issuer).toContain('Acme Inspection CA');
  });

  it('catches a CONNECT proxy that inspects TLS, and names a known inspection product', async () => {
    const mitm = await interceptingConnectProxy(zsLeaf.keyPem, zsLeaf.pem + zs.pem);
    servers.push(mitm);
    const r = await runCli(['probe', 'tls', `127.0.0.1:${good.port}`, '--ca', ca.cert, '--proxy', `http://127.0.0.1:${mitm.port}`, '--json', '--timeout', '5s']);
    expect(r.code).toBe(1);
    const p = r.json.probes[0];
    expect(p.reason).toBe('TLS_INTERCEPTED');
    expect(p.data.route).toBe('proxy');
    expect(p.data.proxy).toBe(`http://127.0.0.1:${mitm.port}`);
    expect(p.data.interception).toBe(true);
    expect(p.data.inspectionProduct).toBe('Zscaler');
    expect(p.data.interceptionReasons.map((x: any) => x.code)).toEqual(expect.arrayContaining(['UNEXPECTED_ROOT', 'KNOWN_INSPECTION_ISSUER']));
  });

  it('a root trusted by the OS store but not by Mozilla is reported as such (SSL_CERT_FILE)', async () => {
    const mitm = await interceptingTlsProxy(icptLeaf.keyPem, icptLeaf.pem + icpt.pem, { host: '127.0.0.1', port: good.port });
    servers.push(mitm);
    const bundle = join(pki.dir, 'os-bundle.pem');
    writeFileSync(bundle, icpt.pem);
    const r = await runCli(['probe', 'tls', `127.0.0.1:${mitm.port}`, '--json'], { env: { SSL_CERT_FILE: bundle } });
    const p = r.json.probes[0];
    expect(p.data.interception).toBe(true);
    expect(p.data.interceptionReasons.map((x: any) => x.code)).toEqual(['OS_STORE_ONLY_ROOT']);
    expect(p.data.anchor.stores).toEqual(['os']);
  });
});

describe('tls prober: hostile peers end within their deadline', () => {
  it('garbage instead of a handshake', async () => {
    const s = await garbageServer();
    servers.push(s);
    const o = await probe(s.port, {}, 2000);
    expect(o.status).toBe('error');
    expect(o.reason).toBe('TLS_NOT_TLS');
    expect(o.ms).toBeLessThan(byDeadline(2000));
  });

  it('a handshake that stalls', async () => {
    const s = await stallServer();
    servers.push(s);
    const o = await probe(s.port, {}, 800);
    expect(o.status).toBe('timeout');
    expect(o.reason).toBe('TLS_HANDSHAKE_TIMEOUT');
    expect(o.ms).toBeGreaterThanOrEqual(700);
    expect(o.ms).toBeLessThan(byDeadline(800));
  });

  it('a reset during the handshake', async () => {
    const s = await resetServer();
    servers.push(s);
    const o = await probe(s.port, {}, 2000);
    expect(o.status).toBe('refused');
    expect(o.reason).toBe('TLS_RESET');
  });

  it('a chain of 50 certificates', async () => {
    const s = await tlsServer(longKey, longChain);
    servers.push(s);
    const o = await probe(s.port, { ca: ca.cert }, 3000);
    expect(['TLS_CHAIN_TOO_LONG', 'TLS_MESSAGE_TOO_LARGE']).toContain(o.reason);
    expect(o.status).toBe('error');
    if (o.reason === 'TLS_CHAIN_TOO_LONG') {
      expect((o.data as any).chainLength).toBe(50);
      console.log(`50-cert chain: ${o.reason} in ${o.ms.toFixed(0)}ms`);
      expect((o.data as any).chain).toHaveLength(10);
    }
    expect(o.ms).toBeLessThan(byDeadline(3000));
  });
});

// --- A transparent TLS-inspecting firewall: nft redirects port 443-style traffic to a re-signing proxy. ---
const support = labSupport();
if (!support.ok) console.warn(`SKIPPING tls lab test (transparent interception on a real firewall): ${support.why}`);
const FIXTURE = fileURLToPath(new URL('../helpers/serve-trust.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/netcheck.js', import.meta.url));


describe.skipIf(!support.ok)('lab: a firewall that transparently inspects TLS', () => {
  let lab: Lab;
  let tlsPort: number;
  let mitmPort: number;
  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    const leafLab = pki.issue('lab-leaf', ca, '/CN=server.lab', { sans: 'IP:10.200.2.2', days: 90 });
    const icptLab = pki.issue('lab-icpt', icpt, '/CN=server.lab', { sans: 'IP:10.200.2.2', days: 90 });
    pki.write('lab-chain.pem', leafLab.pem + ca.pem);
    pki.write('lab-icpt-chain.pem', icptLab.pem + icpt.pem);
    tlsPort = await readyPort(lab.spawn('server', [process.execPath, FIXTURE, 'tls', lab.addr.server, leafLab.key, join(pki.dir, 'lab-chain.pem')]));
    mitmPort = await readyPort(lab.spawn('firewall', [process.execPath, FIXTURE, 'mitm', lab.addr.fwClient, icptLab.key, join(pki.dir, 'lab-icpt-chain.pem'), lab.addr.server, String(tlsPort)]));
  }, 60_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  async function probeLab(kind: string): Promise<any> {
    const r = await lab.exec('client', [process.execPath, BIN, 'probe', kind, `${lab.addr.server}:${tlsPort}`, '--ca', ca.cert, '--json', '--timeout', '3s'], { timeoutMs: 30_000 });
    return JSON.parse(r.stdout).probes[0];
  }

  it('TCP connects either way; only the tls probe sees the re-signed chain', async () => {
    await lab.nft(statefulRuleset());
    const clean = await probeLab('tls');
    expect(clean.reason).toBe('TLS_OK');
    expect(clean.data.interception).toBe(false);
    await lab.nft(statefulRuleset('', { prerouting: `iifname "fc" tcp dport ${tlsPort} redirect to :${mitmPort}`, input: `iifname "fc" tcp dport ${mitmPort} accept` }));
    const tcp = await lab.exec('client', [process.execPath, BIN, 'probe', 'tcp', `${lab.addr.server}:${tlsPort}`, '--json'], { timeoutMs: 30_000 });
    expect(JSON.parse(tcp.stdout).probes[0].status).toBe('ok');
    const inspected = await probeLab('tls');
    expect(inspected.status).toBe('error');
    expect(inspected.reason).toBe('TLS_INTERCEPTED');
    expect(inspected.data.interception).toBe(true);
    expect(inspected.data.interceptionReasons.map((r: any) => r.code)).toContain('UNEXPECTED_ROOT');
    expect(inspected.data.chain[0].issuer).toContain('Acme Inspection CA');
  });
});

describe('netcheck probe tls (CLI surface)', () => {
  it('--json carries the chain and interception false for the expected CA', async () => {
    // Repeated --expect-issuer before the target: alternatives, and the target is not swallowed.
    const r = await runCli(['probe', 'tls', '--expect-issuer', 'DigiCert', '--expect-issuer', 'Netcheck', `127.0.0.1:${good.port}`, '--ca', ca.cert, '--json']);
    expect(r.code).toBe(0);
    const p = r.json.probes[0];
    expect(p.data.issuerMatch).toEqual({ expected: ['DigiCert', 'Netcheck'], matched: ['Netcheck'] });
    expect(p.kind).toBe('tls');
    expect(p.status).toBe('ok');
    expect(p.data.interception).toBe(false);
    expect(p.data.chain[0].spkiSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('--servername sets SNI; bad flags are usage errors naming the flag', async () => {
    const r = await runCli(['probe', 'tls', `127.0.0.1:${good.port}`, '--ca', ca.cert, '--servername', 'localhost', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.probes[0].data.servername).toBe('localhost');
    const missing = await runCli(['probe', 'tls', `127.0.0.1:${good.port}`, '--ca', join(pki.dir, 'nope.pem')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--ca');
    expect(missing.stderr).not.toContain('    at ');
    const wrongKind = await runCli(['probe', 'tcp', `127.0.0.1:${good.port}`, '--expect-issuer', 'X']);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('--expect-issuer');
  });
});
