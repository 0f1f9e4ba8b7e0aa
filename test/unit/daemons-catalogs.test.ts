/**
 * Issue 5's checks against real Debian daemons the test starts on loopback:
 * - DNS drift: dnsmasq answers for names paired with addresses (test/fixtures/lab/dns-drift.yaml);
 * - egress discovery: coturn's STUN server answers RFC 5389 Binding requests;
 * - Commversion's checks (ban list, geo-block page, STUN) through the CLI, on loopback stand-ins.
 * Nothing leaves 127.0.0.1. Missing daemons skip loudly (CI installs them: .ci/apt-packages.txt).
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStunResponse, STUN_MAGIC_COOKIE } from '../../src/probers/stun.js';
import { runCli } from '../helpers/cli.js';
import { freePort, startDnsmasq, startStunServer, type Daemon } from '../helpers/daemons.js';
import { needTools } from '../helpers/tools.js';

const DNSMASQ = needTools('DNS drift tests', ['dnsmasq'])?.dnsmasq;
const TURNSERVER = needTools('STUN tests (coturn)', ['turnserver'])?.turnserver;

const tmp = mkdtempSync(join(tmpdir(), 'nc-daemons-'));
const daemons: Daemon[] = [];
afterAll(async () => {
  await Promise.all(daemons.map((d) => d.close()));
  rmSync(tmp, { recursive: true, force: true });
});

interface Probe {
  line: string;
  status: string;
  reason: string;
  data?: Record<string, unknown>;
}
interface Report {
  probes: Probe[];
  lines: { id: string; verdict: string; reason: string; remediation?: string }[];
}

describe.skipIf(!DNSMASQ)('DNS drift against a real dnsmasq', () => {
  let port = 0;
  beforeAll(async () => {
    const d = await startDnsmasq(
      DNSMASQ!,
      {
        'gw1.lab.test': ['192.0.2.10'],
        // The gateway "moved": DNS now says 192.0.2.99, the document says 192.0.2.20.
        'gw2.lab.test': ['192.0.2.99'],
        'www.lab.test': ['198.51.100.7'],
      },
      ['--host-record=cdn.lab.test,198.51.100.8', '--host-record=cdn.lab.test,203.0.113.50'],
    );
    daemons.push(d);
    port = d.port;
  });

  it('fails names whose answers leave the documented addresses, naming the resolver and the addresses, and passes the rest', async () => {
    const r = await runCli(['run', '--catalog', 'test/fixtures/lab/dns-drift.yaml', '--dns-server', `127.0.0.1:${port}`, '--no-control', '--json', '--quiet']);
    // DNS drift is a failure, not a footnote (issue 10): a DNS filter answering with a block page
    // address used to leave the line passing and the run at exit 0.
    expect(r.code).toBe(1);
    const rep = JSON.parse(r.stdout) as Report;
    const by = (line: string): Probe => rep.probes.find((p) => p.line === line)!;
    expect([by('gw-same').status, by('gw-same').reason]).toEqual(['ok', 'RESOLVED']);
    expect([by('gw-moved').status, by('gw-moved').reason]).toEqual(['error', 'DNS_DRIFT']);
    expect(by('gw-moved').data!.drift).toEqual(['192.0.2.99']);
    expect(by('domain-in-range').reason).toBe('RESOLVED');
    expect(by('domain-partly-out').reason).toBe('DNS_DRIFT');
    expect(by('domain-partly-out').data!.drift).toEqual(['203.0.113.50']);
    const line = (id: string): Report['lines'][number] => rep.lines.find((l) => l.id === id)!;
    const moved = line('gw-moved');
    expect(moved.verdict).toBe('fail');
    expect(moved.reason).toContain('DNS drift: gw2.lab.test → 192.0.2.99');
    // The remediation says which resolver answers so, and with which addresses.
    expect(moved.remediation).toContain(`--dns-server (127.0.0.1:${port})`);
    expect(moved.remediation).toContain('answers with addresses the document does not publish');
    expect(moved.remediation).toContain('gw2.lab.test → 192.0.2.99');
    expect(line('domain-partly-out').verdict).toBe('fail');
    expect(line('domain-partly-out').remediation).toContain('cdn.lab.test → 203.0.113.50');
    expect([line('gw-same').verdict, line('domain-in-range').verdict]).toEqual(['pass', 'pass']);
    expect(line('gw-same').reason).not.toContain('drift');
  });
});

describe('STUN messages (RFC 5389)', () => {
  it('decodes XOR-MAPPED-ADDRESS for IPv4 and IPv6, and ignores other transactions', () => {
    const tid = Buffer.from('0102030405060708090a0b0c', 'hex');
    const build = (family: 4 | 6, addr: Buffer, port: number): Buffer => {
      const key = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), tid]);
      const x = Buffer.from(addr.map((b, i) => b ^ key[i]!));
      const attr = Buffer.alloc(4 + 4 + x.length);
      attr.writeUInt16BE(0x0020, 0);
      attr.writeUInt16BE(4 + x.length, 2);
      attr[5] = family === 4 ? 1 : 2;
      attr.writeUInt16BE(port ^ (STUN_MAGIC_COOKIE >>> 16), 6);
      x.copy(attr, 8);
      const h = Buffer.alloc(20);
      h.writeUInt16BE(0x0101, 0);
      h.writeUInt16BE(attr.length, 2);
      h.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
      tid.copy(h, 8);
      return Buffer.concat([h, attr]);
    };
    const v4 = parseStunResponse(build(4, Buffer.from([198, 51, 100, 23]), 40123), tid);
    expect(v4).toMatchObject({ type: 'success', mapped: { address: '198.51.100.23', port: 40123, family: 4, attribute: 'XOR-MAPPED-ADDRESS' } });
    const v6 = parseStunResponse(build(6, Buffer.from('20010db8000000000000000000000042', 'hex'), 3478), tid);
    expect(v6).toMatchObject({ mapped: { address: '2001:db8::42', port: 3478, family: 6 } });
    expect(parseStunResponse(build(4, Buffer.from([1, 2, 3, 4]), 1), Buffer.alloc(12))).toBeUndefined();
  });
});

describe.skipIf(!TURNSERVER)('egress discovery against a real STUN server (coturn)', () => {
  let port = 0;
  beforeAll(async () => {
    const d = await startStunServer(TURNSERVER!);
    daemons.push(d);
    port = d.port;
  });

  it('reports the mapped address and port the server saw', async () => {
    const r = await runCli(['probe', 'stun', `127.0.0.1:${port}`, '--json']);
    expect(r.code).toBe(0);
    const p = (JSON.parse(r.stdout) as Report).probes[0]!;
    expect([p.status, p.reason]).toEqual(['ok', 'STUN_MAPPED']);
    expect(p.data!.mappedAddress).toBe('127.0.0.1');
    // On loopback there is no NAT: the server saw our own socket's port.
    expect(p.data!.mappedPort).toBe(p.data!.localPort);
    expect(p.data!.attribute).toBe('XOR-MAPPED-ADDRESS');
    expect(String(p.data!.software)).toMatch(/Coturn/i);
  });

  it('no STUN server: refused when the port is closed, open|filtered when a server stays silent', async () => {
    const closed = await freePort();
    const r = await runCli(['probe', 'stun', `127.0.0.1:${closed}`, '--json', '--timeout', '1s']);
    expect((JSON.parse(r.stdout) as Report).probes[0]).toMatchObject({ status: 'refused', reason: 'ECONNREFUSED' });
    const silent = createSocket('udp4');
    await new Promise<void>((res) => silent.bind(0, '127.0.0.1', res));
    try {
      const t0 = Date.now();
      const s = await runCli(['probe', 'stun', `127.0.0.1:${silent.address().port}`, '--json', '--timeout', '1200ms']);
      const p = (JSON.parse(s.stdout) as Report).probes[0]!;
      expect([p.status, p.reason]).toEqual(['open|filtered', 'STUN_NO_REPLY']);
      // RFC 5389 retransmissions within the deadline: sent at 0 and 500 ms.
      expect(p.data!.sends).toBe(2);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
    } finally {
      silent.close();
    }
  });

  describe("Commversion's checks through the CLI (loopback stand-ins)", () => {
    let site: Server;
    let sitePort = 0;
    let block = 0;
    beforeAll(async () => {
      site = createServer((req, res) => {
        res.statusCode = block || 200;
        res.end(block ? 'Access denied in your region' : 'welcome');
      });
      await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
      sitePort = (site.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => site.close(() => r())));

    const run = async (extra: string[]): Promise<{ code: number | null; rep: Report }> => {
      const r = await runCli(['run', '--catalog', 'test/fixtures/lab/commversion-loopback.yaml', '--site-port', String(sitePort), '--stun-port', String(port), '--no-control', '--json', '--quiet', ...extra]);
      return { code: r.code, rep: JSON.parse(r.stdout) as Report };
    };

    it('site open, egress discovered, ban list disjoint: exit 0', async () => {
      writeFileSync(join(tmp, 'banned.txt'), '203.0.113.7\n203.0.113.64/28\n');
      writeFileSync(join(tmp, 'office.txt'), '198.51.100.0/28\n');
      writeFileSync(join(tmp, 'platform.txt'), '192.0.2.10\n');
      block = 0;
      const { code, rep } = await run(['--banned-ips', join(tmp, 'banned.txt'), '--office-ips', join(tmp, 'office.txt'), '--platform-ips', join(tmp, 'platform.txt')]);
      expect(rep.probes.map((p) => `${p.line} ${p.status} ${p.reason}`).sort()).toEqual([
        'banned-ips ok NO_OVERLAP',
        'banned-ips ok NO_OVERLAP',
        'client-site ok HTTP_RESPONSE',
        'egress-address ok STUN_MAPPED',
      ]);
      const egress = rep.probes.find((p) => p.line === 'egress-address')!;
      expect(egress.data!.mappedAddress).toBe('127.0.0.1');
      // Not in the office list: the agent must send this address to the client.
      expect(egress.data!.listedIn).toEqual([]);
      expect(egress.data!.comparedWith).toEqual(['office-ips']);
      expect(code).toBe(0);
    });

    for (const status of [403, 451]) {
      it(`a ${status} block page is refused (HTTP_BLOCKED), and a ban on our own office fails the list`, async () => {
        writeFileSync(join(tmp, 'banned2.txt'), '203.0.113.7\n198.51.100.5\n');
        block = status;
        writeFileSync(join(tmp, 'agents.txt'), '# agents working from home\n127.0.0.0/8\n');
        const { code, rep } = await run(['--banned-ips', join(tmp, 'banned2.txt'), '--office-ips', join(tmp, 'office.txt'), '--agent-ips', join(tmp, 'agents.txt')]);
        const site = rep.probes.find((p) => p.line === 'client-site')!;
        expect([site.status, site.reason, site.data!.httpStatus]).toEqual(['refused', 'HTTP_BLOCKED', status]);
        // This time the agent list holds the discovered address.
        expect(rep.probes.find((p) => p.line === 'egress-address')!.data!.listedIn).toEqual([{ param: 'agent-ips', file: join(tmp, 'agents.txt'), line: 2, value: '127.0.0.0/8' }]);
        const lists = rep.probes.filter((p) => p.line === 'banned-ips');
        expect(lists.map((p) => p.reason)).toEqual(['NO_OVERLAP', 'LIST_OVERLAP']);
        expect(lists[1]!.data!.overlaps).toEqual([{ param: 'office-ips', file: join(tmp, 'office.txt'), line: 1, value: '198.51.100.0/28' }]);
        expect(rep.lines.find((l) => l.id === 'client-site')!.verdict).toBe('fail');
        expect(rep.lines.find((l) => l.id === 'banned-ips')!.verdict).toBe('partial');
        expect(code).toBe(1);
      });
    }
  });
});
