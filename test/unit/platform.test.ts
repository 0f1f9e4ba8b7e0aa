/**
 * The platform layer (issue 15): routes and DNS servers where /proc and resolv.conf are absent
 * (Windows `route print`, macOS/BSD/net-tools `netstat -rn`, Node's resolver list), and "unknown"
 * rather than "none" when nothing could be read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNetstatRn, parseRoutePrint, readDefaultRoutes, readDnsServers } from '../../src/platform/network.js';
import { collectEnvironment } from '../../src/report/environment.js';
import { osStore, systemCertificates } from '../../src/trust/roots.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { renderText } from '../../src/report/text.js';
import type { Report } from '../../src/types.js';
import { ROOT } from '../helpers/cli.js';

const fixture = (name: string): string => readFileSync(join(ROOT, 'test/fixtures/platform', name), 'utf8');

describe('route listings', () => {
  it('Windows `route print`: active default routes only, interfaces named, On-link is no gateway', () => {
    const routes = parseRoutePrint(fixture('route-print-win10.txt'), new Map([['192.168.1.100', 'Ethernet']]));
    expect(routes).toEqual([
      { family: 4, interface: '10.8.0.14', metric: 2 },
      { family: 4, interface: 'Ethernet', gateway: '192.168.1.1', metric: 25 },
      { family: 6, interface: 'Intel(R) Ethernet Connection I219-LM', gateway: 'fe80::1', metric: 281 },
    ]);
  });

  it('macOS `netstat -rn` and net-tools `netstat -rn`', () => {
    expect(parseNetstatRn(fixture('netstat-rn-macos.txt'))).toEqual([
      { family: 4, interface: 'en0', gateway: '192.168.1.1', metric: 0 },
      { family: 4, interface: 'utun3', metric: 0 },
      { family: 6, interface: 'en0', gateway: 'fe80::1%en0', metric: 0 },
    ]);
    expect(parseNetstatRn(fixture('netstat-rn-linux.txt'))).toEqual([{ family: 4, interface: 'enp0s3', gateway: '10.0.2.2', metric: 0 }]);
  });

  it('chooses the source by platform; a tool that cannot run is unknown, not "no route"', () => {
    const calls: string[] = [];
    const run = (cmd: string, args: string[]): string | undefined => {
      calls.push(`${cmd} ${args.join(' ')}`);
      return cmd === 'route' ? fixture('route-print-win10.txt') : cmd === 'netstat' ? fixture('netstat-rn-macos.txt') : undefined;
    };
    expect(readDefaultRoutes({ platform: 'win32', run }).source).toBe('route print');
    expect(readDefaultRoutes({ platform: 'darwin', run }).source).toBe('netstat -rn');
    // Linux without /proc (a container without it) falls back to netstat too.
    expect(readDefaultRoutes({ platform: 'linux', procDir: '/nonexistent', run }).source).toBe('netstat -rn');
    expect(calls).toEqual(['route print', 'netstat -rn', 'netstat -rn']);
    // wine has no route.exe: exactly this case.
    expect(readDefaultRoutes({ platform: 'win32', run: () => undefined })).toEqual({ routes: [], source: 'unknown' });
    expect(readDefaultRoutes({ platform: 'darwin', run: () => 'netstat: sysctl: permission denied' })).toEqual({ routes: [], source: 'unknown' });
  });
});

describe('DNS servers', () => {
  it('--dns-server, else resolv.conf (not on Windows), else the system resolver list, else unknown', () => {
    expect(readDnsServers({ dnsServers: ['127.0.0.1:53'] })).toEqual({ servers: ['127.0.0.1:53'], source: 'dns-server' });
    const rc = join(ROOT, 'test/fixtures/platform/none.conf');
    expect(readDnsServers({ platform: 'win32', systemServers: () => ['10.1.1.1', '10.1.1.2'] })).toEqual({ servers: ['10.1.1.1', '10.1.1.2'], source: 'system' });
    expect(readDnsServers({ platform: 'darwin', resolvConf: rc, systemServers: () => ['192.168.1.1'] })).toEqual({ servers: ['192.168.1.1'], source: 'system' });
    expect(readDnsServers({ platform: 'win32', systemServers: () => [] })).toEqual({ servers: [], source: 'unknown' });
  });
});

describe('the fingerprint says unknown, not none', () => {
  it('unreadable routes and resolver render as unknown in text and markdown', () => {
    const env = collectEnvironment({ platform: 'win32', run: () => undefined, systemDnsServers: () => [], env: {} });
    expect(env.routeSource).toBe('unknown');
    expect(env.dns.source).toBe('unknown');
    const report = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/reports/report.json'), 'utf8')) as Report;
    report.environment = env;
    expect(renderMarkdown(report)).toMatch(/\| Default route \| unknown \(could not be read\) \|/);
    expect(renderMarkdown(report)).toMatch(/\| DNS servers \| unknown \(could not be read\) \(unknown\) \|/);
    expect(renderText(report, { color: false, verbose: true })).toContain('default route unknown (could not be read)');
    // Read, and really empty: none.
    report.environment = { ...env, routeSource: 'proc' };
    expect(renderMarkdown(report)).toMatch(/\| Default route \| none \|/);
  });
});

describe('the OS trust store', () => {
  const pem = readFileSync(join(ROOT, 'test/fixtures/platform/corp-root.pem'), 'utf8');

  it('Windows and macOS: the system store (tls.getCACertificates), named as such', () => {
    const win = osStore({}, { platform: 'win32', system: () => [pem] });
    expect(win.sources).toEqual(['Windows certificate store']);
    expect(win.certs.map((c) => c.subject)).toEqual(['O=Example Corp\nCN=Example Corp Inspection Root']);
    expect(osStore({}, { platform: 'darwin', system: () => [pem] }).sources).toEqual(['macOS keychain']);
  });

  it('SSL_CERT_FILE / SSL_CERT_DIR still override; a Node without the API (20) falls back to the bundles', () => {
    const file = join(ROOT, 'test/fixtures/platform/corp-root.pem');
    expect(osStore({ SSL_CERT_FILE: file }, { platform: 'win32', system: () => [] }).sources).toEqual([file]);
    const fallback = osStore({}, { platform: 'darwin', system: () => undefined });
    expect(fallback.sources?.every((s) => s.startsWith('/etc/'))).toBe(true);
    // Feature-detected: present from Node 22.15 / 23.10, absent on Node 20.
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const has = major > 23 || (major === 23 && minor >= 10) || (major === 22 && minor >= 15);
    expect(Array.isArray(systemCertificates())).toBe(has);
  });
});
