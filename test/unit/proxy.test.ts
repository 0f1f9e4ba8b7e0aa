/**
 * Proxies: a real forward proxy (npm `proxy`, with and without basic auth), HTTP_PROXY /
 * HTTPS_PROXY / NO_PROXY, refusals (407, 403 block page with Via, proxy down), `--compare-direct`,
 * credential redaction everywhere, and — in network namespaces with a real firewall — a network
 * where only the proxy gets out: probes work through it and fail with a clear reason without it.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { makeLookup } from '../../src/engine/run.js';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { KINDS, PROBERS, loadProbers } from '../../src/probers/index.js';
import { noProxyMatches, parseProxyUrl, proxyFor, proxySettings, redactText } from '../../src/net/proxy.js';
import { readyPort } from '../helpers/wait.js';
import { Pki, type Issued } from '../helpers/pki.js';
import { blockingProxy, forwardProxy, routeServer, tlsServer, type Closeable } from '../helpers/trust-servers.js';
import { runCli } from '../helpers/cli.js';

// Probers load on demand (src/probers/index.ts); these tests call them directly.
beforeAll(() => loadProbers(KINDS));

const pki = new Pki('nc-proxy-');
let ca: Issued;
let leaf: Issued;
let tlsSrv: Closeable;
let web: Closeable & { hits: string[] };
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  ca = pki.ca('ca', '/O=Netcheck Test/CN=Netcheck Proxy Test Root');
  leaf = pki.issue('leaf', ca, '/CN=localhost', { sans: 'DNS:localhost,IP:127.0.0.1,IP:10.200.2.2', days: 90 });
  tlsSrv = await tlsServer(leaf.keyPem, leaf.pem + ca.pem);
  pki.write('chain.pem', leaf.pem + ca.pem);
  web = await routeServer({ '/': (_q, s) => s.end('ok') });
  closers.push(tlsSrv.close, web.close);
}, 60_000);

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  pki.cleanup();
});

describe('proxy settings', () => {
  it('parses and redacts proxy URLs', () => {
    const ep = parseProxyUrl('http://bob:p%40ss@proxy.example:3128', '--proxy');
    expect(ep.display).toBe('http://***@proxy.example:3128');
    expect(ep.authorization).toBe(`Basic ${Buffer.from('bob:p@ss').toString('base64')}`);
    expect(parseProxyUrl('proxy.example:8080', 'HTTP_PROXY').display).toBe('http://proxy.example:8080');
    expect(() => parseProxyUrl('socks5://proxy.example:1080', '--proxy')).toThrow(/only http/);
    expect(redactText('via http://u:pw@h:1/x and https://tok@h2')).toBe('via http://***@h:1/x and https://***@h2');
  });

  it('follows curl: lower case wins, HTTPS_PROXY for https, ALL_PROXY as fallback, NO_PROXY exceptions', () => {
    const s = proxySettings(undefined, { https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2', ALL_PROXY: 'http://c:3', NO_PROXY: 'internal.example, 10.0.0.0/8,[::1]:8443' })!;
    expect(s.https!.display).toBe('http://a:1');
    expect(s.http!.display).toBe('http://c:3');
    expect(s.noProxy).toEqual(['internal.example', '10.0.0.0/8', '[::1]:8443']);
    expect(proxySettings(undefined, {})).toBeUndefined();
    expect(() => proxySettings(undefined, {}, true)).toThrow(/--compare-direct needs a proxy/);
  });

  it('matches NO_PROXY entries like curl', () => {
    const np = ['internal.example', '.corp.example', '10.0.0.0/8', '192.168.1.5', '[::1]:8443', 'example.org:8080'];
    expect(noProxyMatches(np, 'internal.example')).toBe(true);
    expect(noProxyMatches(np, 'api.internal.example')).toBe(true);
    expect(noProxyMatches(np, 'notinternal.example')).toBe(false);
    expect(noProxyMatches(np, 'x.corp.example')).toBe(true);
    expect(noProxyMatches(np, '10.2.3.4')).toBe(true);
    expect(noProxyMatches(np, '11.2.3.4')).toBe(false);
    expect(noProxyMatches(np, '192.168.1.5')).toBe(true);
    expect(noProxyMatches(np, '::1', 8443)).toBe(true);
    expect(noProxyMatches(np, '::1', 443)).toBe(false);
    expect(noProxyMatches(np, 'example.org', 8080)).toBe(true);
    expect(noProxyMatches(np, 'example.org', 443)).toBe(false);
    expect(noProxyMatches(['*'], 'anything.example')).toBe(true);
  });
});

describe('through a real forward proxy (loopback)', () => {
  it('tls goes through CONNECT, and says through which proxy', async () => {
    const px = await forwardProxy();
    closers.push(px.close);
    const r = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--ca', ca.cert, '--proxy', `http://127.0.0.1:${px.port}`, '--json']);
    expect(r.code).toBe(0);
    const p = r.json.probes[0];
    expect(p.status).toBe('ok');
    expect(p.data.route).toBe('proxy');
    expect(p.data.proxy).toBe(`http://127.0.0.1:${px.port}`);
    expect(p.data.interception).toBe(false);
    expect(px.connects).toContain(`127.0.0.1:${tlsSrv.port}`);
  });

  it('plain http goes as an absolute-form request', async () => {
    const px = await forwardProxy();
    closers.push(px.close);
    const r = await runCli(['probe', 'http', `127.0.0.1:${web.port}`, '--proxy', `http://127.0.0.1:${px.port}`, '--json']);
    expect(r.code).toBe(0);
    expect(r.json.probes[0].reason).toBe('HTTP_RESPONSE');
    expect(r.json.probes[0].data.route).toBe('proxy');
    expect(px.connects).toContain(`GET http://127.0.0.1:${web.port}/`);
  });

  it('basic auth: refused without credentials (407), works with them, and never prints them', async () => {
    const px = await forwardProxy({ user: 'alice', pass: 'Sup3rSecret' });
    closers.push(px.close);
    const target = `127.0.0.1:${tlsSrv.port}`;
    const none = await runCli(['probe', 'tls', target, '--ca', ca.cert, '--proxy', `http://127.0.0.1:${px.port}`, '--json']);
    expect(none.code).toBe(1);
    expect(none.json.probes[0].status).toBe('refused');
    expect(none.json.probes[0].reason).toBe('PROXY_AUTH_REQUIRED');
    expect(none.json.probes[0].data.credentialsSent).toBe(false);
    const wrong = await runCli(['probe', 'tls', target, '--ca', ca.cert, '--proxy', `http://alice:WrongPass@127.0.0.1:${px.port}`, '--json']);
    expect(wrong.json.probes[0].reason).toBe('PROXY_AUTH_REQUIRED');
    expect(wrong.json.probes[0].data.credentialsSent).toBe(true);
    expect(wrong.stdout + wrong.stderr).not.toContain('WrongPass');
    const out = `${pki.dir}/report.json`;
    const ok = await runCli(['probe', 'tls', target, '--ca', ca.cert, '--proxy', `http://alice:Sup3rSecret@127.0.0.1:${px.port}`, '--json', '--output', out]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).probes[0].data.proxy).toBe(`http://***@127.0.0.1:${px.port}`);
    const text = await runCli(['probe', 'http', `127.0.0.1:${web.port}`, '--proxy', `http://alice:Sup3rSecret@127.0.0.1:${px.port}`, '--verbose'], { env: { NO_COLOR: '1' } });
    expect(text.code).toBe(0);
    for (const s of [ok.stdout, ok.stderr, readFileSync(out, 'utf8'), text.stdout, text.stderr]) {
      expect(s).not.toContain('Sup3rSecret');
      expect(s).not.toContain(Buffer.from('alice:Sup3rSecret').toString('base64'));
    }
  });

  it('NO_PROXY exempts a destination, also from --proxy; proxy variables never apply to loopback', async () => {
    const px = await forwardProxy();
    closers.push(px.close);
    const proxy = `http://127.0.0.1:${px.port}`;
    const direct = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--ca', ca.cert, '--json', '--proxy', proxy], { env: { NO_PROXY: 'localhost,127.0.0.0/8' } });
    expect(direct.json.probes[0].data.route).toBe('direct');
    expect(direct.json.probes[0].status).toBe('ok');
    const env = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--ca', ca.cert, '--json'], { env: { HTTPS_PROXY: proxy } });
    expect(env.json.probes[0].data.route).toBe('direct');
    expect(px.connects).toEqual([]);
    // The variables themselves are exercised against a non-loopback server in the lab test below.
    const settings = proxySettings(undefined, { HTTPS_PROXY: proxy })!;
    expect(proxyFor(settings, 'https', 'www.example.com', 443)?.display).toBe(proxy);
    expect(proxyFor(settings, 'https', 'localhost', 443)).toBeUndefined();
    expect(proxyFor(settings, 'http', 'www.example.com', 80)).toBeUndefined();
  });

  it('a proxy that is down is PROXY_CONNECT_FAILED; a blocking proxy is PROXY_FORBIDDEN', async () => {
    const gone = await forwardProxy();
    const port = gone.port;
    await gone.close();
    const down = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--proxy', `http://127.0.0.1:${port}`, '--json']);
    expect(down.json.probes[0].status).toBe('refused');
    expect(down.json.probes[0].reason).toBe('PROXY_CONNECT_FAILED');
    const block = await blockingProxy();
    closers.push(block.close);
    const t = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--proxy', `http://127.0.0.1:${block.port}`, '--json']);
    expect(t.json.probes[0].reason).toBe('PROXY_FORBIDDEN');
    expect(t.json.probes[0].data.via).toContain('BlockingProxy');
    expect(t.json.probes[0].data.blockPage).toBe(true);
    const h = await runCli(['probe', 'http', `127.0.0.1:${web.port}`, '--proxy', `http://127.0.0.1:${block.port}`, '--json']);
    expect(h.json.probes[0].status).toBe('refused');
    expect(h.json.probes[0].reason).toBe('PROXY_FORBIDDEN');
  });

  it('--compare-direct runs both paths', async () => {
    const px = await forwardProxy();
    closers.push(px.close);
    const r = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--ca', ca.cert, '--proxy', `http://127.0.0.1:${px.port}`, '--compare-direct', '--json']);
    const p = r.json.probes[0];
    expect(p.data.route).toBe('proxy');
    expect(p.data.direct.status).toBe('ok');
    expect(p.data.direct.interception).toBe(false);
    const noProxy = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--compare-direct']);
    expect(noProxy.code).toBe(2);
    expect(noProxy.stderr).toContain('--compare-direct');
    const bad = await runCli(['probe', 'tls', `127.0.0.1:${tlsSrv.port}`, '--proxy', 'socks5://127.0.0.1:1080']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--proxy');
  });
});

describe('WebSocket probes through the proxy', () => {
  it('ws-hold holds a ws:// and a wss:// connection through CONNECT, and says so', async () => {
    const px = await forwardProxy({ user: 'wsuser', pass: 'ws-pass' });
    closers.push(px.close);
    const plain = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const https = createHttpsServer({ key: leaf.keyPem, cert: leaf.pem + ca.pem });
    const secure = new WebSocketServer({ server: https });
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => (plain.address() ? r() : plain.once('listening', () => r())));
    closers.push(
      () => new Promise<void>((r) => plain.close(() => r())),
      () => new Promise<void>((r) => { secure.close(); https.closeAllConnections(); https.close(() => r()); }),
    );
    const proxy = proxySettings(`http://wsuser:ws-pass@127.0.0.1:${px.port}`, {})!;
    const hold = async (port: number, options: Record<string, unknown>, p = proxy) =>
      PROBERS['ws-hold']!(
        { id: 'w', line: 'w', kind: 'ws-hold', host: '127.0.0.1', port, options: { hold: '1s', pingEvery: '250ms', pongTimeout: '1s', path: '/', ...options }, timeoutMs: 5000 },
        { signal: AbortSignal.timeout(5000), timeoutMs: 5000, lookup: makeLookup(), proxy: p },
      );
    const a = await hold((plain.address() as AddressInfo).port, { tls: false });
    expect(a.status).toBe('ok');
    expect(a.reason).toBe('WS_HELD');
    expect(a.data?.route).toBe('proxy');
    expect(a.data?.proxy).toBe(`http://***@127.0.0.1:${px.port}`);
    const httpsPort = (https.address() as AddressInfo).port;
    const fp = new X509Certificate(leaf.pem).fingerprint256;
    const b = await hold(httpsPort, { tls: true, fingerprint: fp });
    expect(b.reason).toBe('WS_HELD');
    expect(px.connects).toEqual(expect.arrayContaining([`127.0.0.1:${(plain.address() as AddressInfo).port}`, `127.0.0.1:${httpsPort}`]));
    const noAuth = await hold((plain.address() as AddressInfo).port, { tls: false }, proxySettings(`http://127.0.0.1:${px.port}`, {})!);
    expect(noAuth.reason).toBe('PROXY_AUTH_REQUIRED');
  });
});

// --- A network where only the proxy gets out: client ns → firewall ns (proxy) → server ns. ---
const support = labSupport();
if (!support.ok) console.warn(`SKIPPING proxy lab tests (only-the-proxy-gets-out network): ${support.why}`);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = process.execPath;
const FIXTURE = `${ROOT}test/helpers/serve-trust.mjs`;


describe.skipIf(!support.ok)('lab: only the proxy gets out', () => {
  let lab: Lab;
  let proxyPort: number;
  let authPort: number;
  let tlsPort: number;

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    // Client → server directly: dropped. Client → the proxy on the firewall: allowed.
    await lab.nft(statefulRuleset('iifname "fc" drop', { input: 'iifname "fc" tcp dport 1024-65535 accept' }));
    tlsPort = await readyPort(lab.spawn('server', [NODE, FIXTURE, 'tls', lab.addr.server, leaf.key, `${pki.dir}/chain.pem`]));
    proxyPort = await readyPort(lab.spawn('firewall', [NODE, FIXTURE, 'proxy', lab.addr.fwClient]));
    authPort = await readyPort(lab.spawn('firewall', [NODE, FIXTURE, 'proxy', lab.addr.fwClient, 'carol:Lab-Secret']));
  }, 60_000);
  afterAll(async () => {
    await lab?.destroy();
  });

  async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; json: any; stdout: string; stderr: string }> {
    const r = await lab.exec('client', ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), NODE, `${ROOT}bin/netcheck.js`, ...args], { timeoutMs: 60_000 });
    let json: any;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
    return { ...r, json };
  }

  it('works through the proxy and fails without it, with clear reasons', async () => {
    const target = `${lab.addr.server}:${tlsPort}`;
    const direct = await run(['probe', 'tls', target, '--ca', ca.cert, '--timeout', '1500ms', '--json']);
    expect(direct.json.probes[0].status).toBe('filtered');
    expect(direct.json.probes[0].reason).toBe('SYN_TIMEOUT');
    expect(direct.json.probes[0].data.route).toBe('direct');
    const via = await run(['probe', 'tls', target, '--ca', ca.cert, '--timeout', '3s', '--json', '--proxy', `http://${lab.addr.fwClient}:${proxyPort}`, '--compare-direct']);
    const p = via.json.probes[0];
    expect(p.status).toBe('ok');
    expect(p.data.route).toBe('proxy');
    expect(p.data.interception).toBe(false);
    expect(p.data.direct.status).toBe('filtered');
    expect(p.data.direct.reason).toBe('SYN_TIMEOUT');
    expect(via.code).toBe(0);
  });

  it('through an authenticating proxy from HTTPS_PROXY: 407 without credentials, ok with them', async () => {
    const target = `${lab.addr.server}:${tlsPort}`;
    const no = await run(['probe', 'tls', target, '--ca', ca.cert, '--json'], { HTTPS_PROXY: `http://${lab.addr.fwClient}:${authPort}` });
    expect(no.json.probes[0].reason).toBe('PROXY_AUTH_REQUIRED');
    const yes = await run(['probe', 'tls', target, '--ca', ca.cert, '--json'], { HTTPS_PROXY: `http://carol:Lab-Secret@${lab.addr.fwClient}:${authPort}` });
    expect(yes.json.probes[0].status).toBe('ok');
    expect(yes.stdout + yes.stderr).not.toContain('Lab-Secret');
  });
});
