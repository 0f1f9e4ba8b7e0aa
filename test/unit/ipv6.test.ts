/**
 * IPv6: probes over ::1, a name with both A and AAAA (from a test DNS server) probed on every
 * address with results per family, -4 / -6, IPv6 catalog ranges, and "no IPv6 route" (a fresh
 * network namespace: nothing can leave it) reported as skipped, not as a failure.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasIpv6Route } from '../../src/probers/paths.js';
import { Pki, type Issued } from '../helpers/pki.js';
import { tlsServer, type Closeable } from '../helpers/trust-servers.js';
import { runCli } from '../helpers/cli.js';

const pki = new Pki('nc-v6-');
let ca: Issued;
let v6tls: Closeable;
let dns: UdpSocket;
let dnsPort: number;
const closers: (() => Promise<void>)[] = [];

/** A tiny authoritative DNS server on 127.0.0.1: `dual.test` → 127.0.0.1 + ::1, `v4only.test` → 127.0.0.1. */
function startDns(): Promise<void> {
  dns = createSocket('udp4');
  dns.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    const answers: dnsPacket.Answer[] = [];
    const name = question.name.toLowerCase();
    if ((name === 'dual.test' || name === 'v4only.test') && question.type === 'A') answers.push({ type: 'A', name: question.name, ttl: 60, data: '127.0.0.1' });
    if (name === 'dual.test' && question.type === 'AAAA') answers.push({ type: 'AAAA', name: question.name, ttl: 60, data: '::1' });
    const known = name === 'dual.test' || name === 'v4only.test';
    const res = dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3), questions: q.questions, answers });
    dns.send(res, rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => dns.bind(0, '127.0.0.1', () => {
    dnsPort = (dns.address() as AddressInfo).port;
    resolve();
  }));
}

function listen(host: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const s = createServer((c) => {
      c.on('error', () => undefined);
      c.end();
    });
    s.once('error', () => resolve(undefined));
    s.listen({ host, port, ipv6Only: host.includes(':') }, () => resolve(s));
  });
}

/** The same TCP port on 127.0.0.1 and ::1 (retrying if the v4 side is taken). */
async function dualPort(withV6 = true): Promise<{ port: number; close: () => Promise<void> }> {
  for (let i = 0; i < 20; i++) {
    const v4 = await listen('127.0.0.1', 0);
    const port = (v4!.address() as AddressInfo).port;
    const v6 = withV6 ? await listen('::1', port) : undefined;
    if (!withV6 || v6) {
      const servers = [v4!, ...(v6 ? [v6] : [])];
      return { port, close: () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined) };
    }
    await new Promise<void>((r) => v4!.close(() => r()));
  }
  throw new Error('no port free on both 127.0.0.1 and ::1');
}

beforeAll(async () => {
  ca = pki.ca('ca', '/O=Netcheck Test/CN=Netcheck IPv6 Test Root');
  const leaf = pki.issue('leaf', ca, '/CN=localhost', { sans: 'DNS:localhost,IP:::1,IP:127.0.0.1', days: 90 });
  v6tls = await tlsServer(leaf.keyPem, leaf.pem + ca.pem, '::1');
  closers.push(v6tls.close);
  await startDns();
  closers.push(() => new Promise<void>((r) => dns.close(() => r())));
}, 60_000);

afterAll(async () => {
  await Promise.all(closers.map((c) => c()));
  pki.cleanup();
});

describe('IPv6 on ::1', () => {
  it('tls over [::1] with the chain checked', async () => {
    const r = await runCli(['probe', 'tls', `[::1]:${v6tls.port}`, '--ca', ca.cert, '--json']);
    expect(r.code).toBe(0);
    const p = r.json.probes[0];
    expect(p.status).toBe('ok');
    expect(p.address).toBe('::1');
    expect(p.data.interception).toBe(false);
  });

  it('every address of a name is probed, with results per family', async () => {
    const d = await dualPort();
    closers.push(d.close);
    const r = await runCli(['probe', 'tcp', `dual.test:${d.port}`, '--dns-server', `127.0.0.1:${dnsPort}`, '--json']);
    expect(r.code).toBe(0);
    const p = r.json.probes[0];
    expect(p.status).toBe('ok');
    expect(p.data.perAddress.map((x: any) => [x.address, x.status]).sort()).toEqual([['127.0.0.1', 'ok'], ['::1', 'ok']]);
    expect(p.data.families).toEqual({ ipv4: 'ok', ipv6: 'ok' });
  });

  it('-4 and -6 restrict the family', async () => {
    const d = await dualPort();
    closers.push(d.close);
    const four = await runCli(['probe', 'tcp', `dual.test:${d.port}`, '-4', '--dns-server', `127.0.0.1:${dnsPort}`, '--json']);
    expect(four.json.probes[0].address).toBe('127.0.0.1');
    expect(four.json.probes[0].data?.perAddress).toBeUndefined();
    const six = await runCli(['probe', 'tcp', `dual.test:${d.port}`, '-6', '--dns-server', `127.0.0.1:${dnsPort}`, '--json']);
    expect(six.json.probes[0].address).toBe('::1');
    const noAAAA = await runCli(['probe', 'tcp', `v4only.test:${d.port}`, '-6', '--dns-server', `127.0.0.1:${dnsPort}`, '--json'])
    expect(noAAAA.code).not.toBe(70);
    expect(noAAAA.json.probes[0].status).toBe('skipped');
    expect(noAAAA.json.probes[0].reason).toBe('NO_ADDRESS_IN_FAMILY');
    // -4 after --dns-server is a flag, not a second server (the option is not a greedy array).
    const after = await runCli(['probe', 'tcp', `dual.test:${d.port}`, '--dns-server', `127.0.0.1:${dnsPort}`, '-4', '--json']);
    expect(after.code).toBe(0);
    expect(after.json.probes[0].address).toBe('127.0.0.1');
    const literal = await runCli(['probe', 'tcp', `[::1]:${d.port}`, '-4', '--json']);
    expect(literal.json.probes[0].status).toBe('skipped');
    expect(literal.json.probes[0].reason).toBe('FAMILY_EXCLUDED');
  });

  it('a family that fails is not hidden by one that works', async () => {
    const d = await dualPort(false);
    closers.push(d.close);
    const r = await runCli(['probe', 'tcp', `dual.test:${d.port}`, '--dns-server', `127.0.0.1:${dnsPort}`, '--json']);
    const p = r.json.probes[0];
    expect(p.status).toBe('refused');
    expect(p.address).toBe('::1');
    expect(p.data.families).toEqual({ ipv4: 'ok', ipv6: 'refused' });
    expect(r.code).toBe(1);
  });

  it('catalog targets from IPv6 ranges are sampled (plan only) and probed (::1/128)', async () => {
    const cat = pki.write(
      'v6.yaml',
      [
        'schema: netcheck/catalog/v1',
        'id: v6-test',
        'title: IPv6 ranges',
        'source: test',
        'sections:',
        '  - id: s',
        '    name: S',
        '    lines:',
        '      - id: doc-range',
        '        description: a documented IPv6 range',
        '        targets: [2a03:6400::/32]',
        '        ports: 443',
        '        checks: [{ kind: tls }]',
        '      - id: loop',
        '        description: loopback',
        `        targets: ['::1/128']`,
        `        ports: ${v6tls.port}`,
        `        checks: [{ kind: tls, ca: '${ca.cert}' }]`,
      ].join('\n'),
    );
    const plan = await runCli(['plan', cat, '--json']);
    expect(plan.code).toBe(0);
    const hosts = (plan.json as any[]).filter((p) => p.line === 'doc-range').map((p) => p.host);
    expect(hosts.length).toBe(4);
    for (const h of hosts) expect(h).toMatch(/^2a03:6400:/);
    const run = await runCli(['run', '--catalog', cat, '--only', 'tls', '--no-control', '--json', '--sample', '1', '--timeout', '2s'], { timeoutMs: 60_000 });
    const loop = run.json.probes.find((p: any) => p.line === 'loop');
    expect(loop.status).toBe('ok');
    expect(loop.host).toBe('::1');
  }, 90_000);
});

describe('no IPv6 route', () => {
  it('reads the routing table', () => {
    const routes = [{ prefix: 0xfd00n << 112n, len: 64, reject: false }];
    expect(hasIpv6Route('fd00::5', routes)).toBe(true);
    expect(hasIpv6Route('2001:db8::1', routes)).toBe(false);
    expect(hasIpv6Route('2001:db8::1', [...routes, { prefix: 0n, len: 0, reject: false }])).toBe(true);
    expect(hasIpv6Route('2001:db8::1', [{ prefix: 0n, len: 0, reject: true }])).toBe(false);
  });

  // A fresh network namespace has no routes at all (not even lo is up): nothing can leave it.
  let unshareArgs: string[] | undefined;
  for (const args of [['-n'], ['-rn']]) {
    try {
      execFileSync('unshare', [...args, 'true'], { stdio: 'ignore' });
      unshareArgs = args;
      break;
    } catch {
      // try the next form
    }
  }
  if (!unshareArgs) console.warn('SKIPPING the no-IPv6-route test: cannot create a network namespace (unshare -n / -rn failed)');

  it.skipIf(!unshareArgs)('ENETUNREACH on IPv6 with no IPv6 route is skipped, not a failure; IPv4 stays unreachable', () => {
    const run = (target: string, kind = 'tcp', loUp = false): any => {
      let out: string;
      const argv = [process.execPath, 'bin/netcheck.js', 'probe', kind, target, '--json', '--timeout', '2s'];
      try {
        // lo down: no IPv6 address at all (EADDRNOTAVAIL); lo up: ::1 but no route out (ENETUNREACH).
        out = loUp
          ? execFileSync('unshare', [...unshareArgs!, 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv], { encoding: 'utf8' })
          : execFileSync('unshare', [...unshareArgs!, ...argv], { encoding: 'utf8' });
      } catch (err) {
        out = (err as { stdout: string }).stdout;
      }
      return JSON.parse(out).probes[0];
    };
    const v6 = run('[2001:db8::1]:443');
    expect(v6.status).toBe('skipped');
    expect(v6.reason).toBe('NO_IPV6_ROUTE');
    const v6tls = run('[2001:db8::1]:443', 'tls', true);
    expect(v6tls.reason).toBe('NO_IPV6_ROUTE');
    const v6up = run('[2001:db8::1]:443', 'tcp', true);
    expect(v6up.status).toBe('skipped');
    expect(v6up.reason).toBe('NO_IPV6_ROUTE');
    const v4 = run('192.0.2.1:443', 'tcp', true);
    expect(v4.status).toBe('unreachable');
    expect(v4.reason).toBe('ENETUNREACH');
  });
});
