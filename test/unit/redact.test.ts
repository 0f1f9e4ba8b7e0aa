/**
 * --redact (issue 6): no internal address, host name or proxy credential survives in any format,
 * while the vendor's public addresses (what the ticket is about) and the egress address stay.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERERS } from '../../src/report/index.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { reportsToPrometheusText } from '../../src/report/prometheus.js';
import { isInternalAddress, redactReport } from '../../src/report/redact.js';
import type { Report } from '../../src/types.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';

const fixture = (): Report => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/reports/report.json'), 'utf8')) as Report;

/** Everything internal the fixture holds, in the forms it appears in. */
const SECRETS = [
  '127.0.0.1', '::1', '192.168.17.42', '192.168.17.1', 'fd12:3456:789a::42', 'fe80::1c2b:3aff:fe4d:5e6f', 'fe80::1', '100.64.3.7',
  '10.20.0.53', '172.16.5.5', '10.0.0.0', 'ws-042', 'corp.acme.example', 'acme', 'intranet.lan',
];

function leaks(text: string, secrets: string[]): string[] {
  return secrets.filter((s) => new RegExp(`(?<![\\w.:-])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'i').test(text));
}

describe('isInternalAddress', () => {
  it('knows the internal ranges and not the public ones', () => {
    for (const a of ['10.1.2.3', '172.31.255.1', '192.168.0.1', '100.64.0.1', '127.0.0.53', '169.254.1.1', '::1', 'fe80::1%eth0', 'fd00::1', 'fc00::1', '::ffff:10.0.0.1']) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['54.215.171.160', '172.32.0.1', '8.8.8.8', '2600:1f18::1', '198.51.100.23', 'not-an-ip']) expect(isInternalAddress(a), a).toBe(false);
  });
});

describe('redactReport', () => {
  it('masks every internal address, host name and credential in every renderer, and metrics', async () => {
    const r = fixture();
    // Plant secrets where a careless transform would miss them: a probe detail, a parameter,
    // a proxy URL with credentials, a diagnosis, an IPv4-mapped address.
    r.parameters['gateway'] = '10.9.8.7';
    r.probes[0]!.detail = 'via http://carol:hunter2@10.1.1.1:8080 from ws-042.corp.acme.example (::ffff:192.168.1.9)';
    r.diagnoses.push({ code: 'DNS_BROKEN', severity: 'warning', message: 'resolver 172.16.5.5 (dns1.intranet.lan) timed out' });
    const secrets = [...SECRETS, '10.9.8.7', '10.1.1.1', 'carol', 'hunter2', '192.168.1.9', 'dns1.intranet.lan'];
    // The unredacted outputs do hold them (so the test can fail).
    expect(leaks(JSON.stringify(r), secrets).length).toBeGreaterThan(10);

    const red = redactReport(r);
    for (const [name, render] of Object.entries(RENDERERS)) {
      const out = render(red, { color: false, verbose: true });
      expect(leaks(out, secrets), name).toEqual([]);
      // Public facts stay: the egress address, the vendor's source document.
      if (['json', 'markdown', 'html'].includes(name)) expect(out, name).toContain('198.51.100.23');
    }
    expect(leaks(await reportsToPrometheusText([red]), secrets)).toEqual([]);
    expect(red.environment!.proxy[0]!.value).toMatch(/^http:\/\/\*\*\*:\*\*\*@redacted-host-\d+:3128$/);
  });

  it('keeps the report coherent: one token per distinct value, the same each time', () => {
    const red = redactReport(fixture());
    const portal = red.probes.find((p) => p.line === 'portal')!;
    const signaling = red.probes.find((p) => p.line === 'signaling')!;
    expect(portal.host).toMatch(/^internal-ipv4-\d+$/);
    expect(signaling.host).toBe(portal.host); // both 127.0.0.1
    expect(portal.id).toBe(`portal/tcp/${portal.host}:${portal.port}`);
    expect(redactReport(fixture())).toEqual(red);
  });

  it('leaves public addresses and names alone', () => {
    const r = fixture();
    r.probes[0]!.host = '54.215.171.160';
    r.probes[1]!.host = 'api.vendor.example.com';
    const red = redactReport(r);
    expect(red.probes[0]!.host).toBe('54.215.171.160');
    expect(red.probes[1]!.host).toBe('api.vendor.example.com');
    // Timestamps are not mistaken for IPv6 addresses.
    expect(red.startedAt).toBe(r.startedAt);
  });

  it('matches the Markdown snapshot of the redacted fixture', async () => {
    await expect(renderMarkdown(redactReport(fixture()))).toMatchFileSnapshot('../fixtures/reports/__snapshots__/report-redacted.md');
  });
});

describe('--redact on the command line', () => {
  let lab: LabServers;
  beforeAll(async () => {
    lab = await startLabServers();
  });
  afterAll(async () => lab?.close());

  it('no internal address or proxy credential survives in any format', async () => {
    const env = { HTTPS_PROXY: 'http://alice:pa55word@proxy.corp.acme.example:3128', NO_PROXY: 'svc.intranet.lan,10.0.0.0/8', http_proxy: 'dave:pw2@10.3.3.3:3128' };
    const secrets = ['127.0.0.1', 'alice', 'pa55word', 'dave', 'pw2', 'proxy.corp.acme.example', 'svc.intranet.lan', '10.0.0.0', '10.3.3.3'];
    // Plain run first: the same secrets are there without --redact, so the check below can fail.
    const plain = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--format', 'json', '-q'], { env });
    expect(leaks(plain.stdout, secrets)).toEqual(expect.arrayContaining(['127.0.0.1', 'proxy.corp.acme.example', '10.3.3.3']));
    expect(plain.stdout).not.toContain('pa55word'); // credentials are masked even without --redact

    for (const format of ['json', 'text', 'markdown', 'html', 'junit']) {
      const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--format', format, '--redact', '-q', '--verbose'], { env });
      expect(r.code, r.stderr).toBe(1);
      expect(leaks(r.stdout, secrets), format).toEqual([]);
      const json = format === 'json' ? (JSON.parse(r.stdout) as Report) : undefined;
      if (json) {
        // Interface and resolver addresses are masked too, whatever they are on this machine.
        for (const i of json.environment!.interfaces) for (const a of i.addresses) expect(a.address).toMatch(/^internal-ipv[46]-\d+$/);
        expect(json.environment!.os.hostname).toMatch(/^redacted-host-\d+$/);
      }
    }
  }, 120_000);
});
