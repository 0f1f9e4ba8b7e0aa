/**
 * The fix list on loopback (issue 16): failures a rule fixes (a refused port) become rules; DNS
 * drift (a real dnsmasq), a stalled HTTP server and a proxy that refuses get their own short
 * instructions instead; every format ends with it, and `allowlist --from-report` renders it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERERS } from '../../src/report/index.js';
import type { Report } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';
import { startDnsmasq } from '../helpers/daemons.js';
import { closedTcpPort, tcpServer, type Closeable } from '../helpers/servers.js';
import { needTools } from '../helpers/tools.js';
import { blockingProxy } from '../helpers/trust-servers.js';

const DNSMASQ = needTools('fix-list tests (dnsmasq answers the drifting name)', ['dnsmasq'])?.dnsmasq;

describe.skipIf(!DNSMASQ)('fix list: rules for blocked ports, instructions for the rest', () => {
  let dns: Closeable;
  let hang: Closeable;
  let proxy: Closeable;
  let closed: number;
  let report: Report;
  let reportFile: string;
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-fix-'));

  beforeAll(async () => {
    dns = await startDnsmasq(DNSMASQ!, { 'gw.lab.test': ['192.0.2.99'] });
    // Accepts and never answers: an HTTP request to it stalls.
    hang = await tcpServer(() => undefined);
    proxy = await blockingProxy();
    closed = await closedTcpPort();
    const catalog = join(dir, 'fix.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1
id: fix
title: Fix-list catalog
source: fix.txt
document: { title: Fix document, publisher: Vendor, url: "https://vendor.example/firewall", seen: "2026-12-03" }
sections:
  - id: main
    name: Main
    lines:
      - id: closed
        description: signaling server
        targets: [127.0.0.1]
        ports: [${closed}]
        checks: [{ kind: tcp }]
        quote: "Signaling | 127.0.0.1 | ${closed} | TCP"
      - id: drift
        description: bot gateway
        targets: [gw.lab.test]
        checks: [{ kind: dns, types: [A], expectAddresses: [192.0.2.20] }]
        quote: "gw.lab.test | 192.0.2.20"
      - id: stall
        description: web portal
        targets: [127.0.0.1]
        ports: [${hang.port}]
        checks: [{ kind: http, scheme: http }]
      - id: proxied
        description: vendor site behind the proxy
        targets: [portal.vendor.example]
        ports: [443]
        checks: [{ kind: http, scheme: https }]
`,
    );
    reportFile = join(dir, 'report.json');
    // The proxied line's name is only ever sent to the loopback proxy (which refuses): the proxy,
    // not this host, would resolve it, so nothing leaves loopback. As a variable (not --proxy), the
    // proxy is not used for the loopback lines.
    const r = await runCli(['run', '--catalog', catalog, '--dns-server', `127.0.0.1:${dns.port}`, '--no-control', '--timeout', '700ms', '--quiet', '-o', reportFile], {
      env: { HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, https_proxy: `http://127.0.0.1:${proxy.port}` },
    });
    expect(r.code, r.stderr).toBe(1);
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  }, 30_000);
  afterAll(async () => {
    await Promise.all([dns?.close(), hang?.close(), proxy?.close()]);
  });

  it('a rule for the refused port only, and an instruction for each failure a rule cannot fix', () => {
    const f = report.fixList!;
    expect(f.rules.map((r) => ({ line: r.line, protocol: r.protocol, ports: r.ports, v4: r.v4, quote: r.quote }))).toEqual([
      { line: 'closed', protocol: 'tcp', ports: [closed], v4: ['127.0.0.1'], quote: `Signaling | 127.0.0.1 | ${closed} | TCP` },
    ]);
    const codes = Object.fromEntries(f.instructions.map((i) => [i.line, i.code]));
    expect(codes).toEqual({ drift: 'DNS_DRIFT', stall: 'STALLED', proxied: 'PROXY' });
    const drift = f.instructions.find((i) => i.line === 'drift')!;
    expect(drift.text).toContain('192.0.2.99');
    expect(drift.text).toContain('192.0.2.20');
    expect(f.instructions.find((i) => i.line === 'proxied')!.targets).toEqual(['portal.vendor.example:443']);
  });

  it('every format carries it: text and Markdown end with it, HTML has its table, JUnit the line’s rule', () => {
    const text = RENDERERS.text!(report, { color: false });
    const tail = text.slice(text.indexOf('Ask your network team to allow'));
    expect(tail).toContain(`outbound TCP ${closed} to 127.0.0.1`);
    expect(tail).toMatch(/DNS drift \(drift\): gw\.lab\.test resolves here to 192\.0\.2\.99/);
    expect(tail).toContain('netcheck allowlist --from-report');
    const md = RENDERERS.markdown!(report, { color: false });
    const section = md.slice(md.indexOf('## Ask your network team to allow'));
    expect(md.indexOf('## Ask your network team to allow')).toBeGreaterThan(md.indexOf('## Environment'));
    expect(section).toContain(`| outbound TCP ${closed} | \`127.0.0.1\` |`);
    expect(section).toContain('- **Stalled or dropped connections** (`stall`)');
    expect(md).toContain('| Document | [Fix document](https://vendor.example/firewall) (Vendor; seen 2026-12-03) |');
    const html = RENDERERS.html!(report, { color: false });
    expect(html).toMatch(/<h2 id="fixlist">Ask your network team to allow<\/h2>\s*<table id="fix-rules">/);
    expect(html).toContain('<li data-code="PROXY">');
    // The per-line table shows reason codes and the document's words, not only a collapsed section.
    expect(html).toContain(`<td class="reasons"><code>ECONNREFUSED</code></td>`);
    expect(html).toContain(`<td class="quote"><q>Signaling | 127.0.0.1 | ${closed} | TCP</q></td>`);
    expect(html).toContain('document: “Fix document” (Vendor; seen 2026-12-03) <code>https://vendor.example/firewall</code>');
    expect(text).toContain(`      document says: "Signaling | 127.0.0.1 | ${closed} | TCP"`);
    expect(text).toContain('document: "Fix document" (Vendor; seen 2026-12-03) https://vendor.example/firewall');
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(RENDERERS.junit!(report, { color: false }));
    const cases = [junit.testsuites.testsuite].flat().flatMap((s: { testcase: unknown }) => [s.testcase].flat()) as Record<string, any>[];
    const closedCase = cases.find((c) => String(c['@name']).startsWith('closed:'))!;
    expect(String(closedCase.failure['#text'])).toContain(`Ask your network team to allow:\n  outbound TCP ${closed} to 127.0.0.1`);
    expect(String(closedCase.failure['#text'])).toContain(`Document says: "Signaling | 127.0.0.1 | ${closed} | TCP"`);
  });

  it('`allowlist --from-report` prints the same rules as CSV, JSON and iptables, instructions as comments', async () => {
    const csv = await runCli(['allowlist', '--from-report', reportFile, '--format', 'csv']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout.trim().split('\n').slice(1)).toEqual([`fix,closed,outbound,tcp,${closed},address,127.0.0.1,main,signaling server,fix.txt,Signaling | 127.0.0.1 | ${closed} | TCP,`]);
    const json = await runCli(['allowlist', '--from-report', reportFile, '--format', 'json']);
    expect(JSON.parse(json.stdout).rules).toEqual(report.fixList!.rules);
    const ipt = await runCli(['allowlist', '--from-report', reportFile, '--format', 'iptables']);
    expect(ipt.stdout).toContain(`-A NETCHECK-OUT -d 127.0.0.1 -p tcp --dport ${closed} -m comment --comment "fix closed" -j ACCEPT`);
    expect(ipt.stdout).toMatch(/^# stall: not fixed by a rule \(Stalled or dropped connections\): Connections to 127\.0\.0\.1:\d+ open but then stall/m);
  });

  it('a redacted report, a catalog beside --from-report, or a file that is not a report: one clear error, exit 2', async () => {
    const redacted = join(dir, 'redacted.json');
    const r = await runCli(['run', '--catalog', join(dir, 'fix.yaml'), '--only', 'tcp', '--no-control', '--timeout', '500ms', '--quiet', '--redact', '-o', redacted]);
    expect(r.code).toBe(1);
    const a = await runCli(['allowlist', '--from-report', redacted, '--format', 'nft']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/written with --redact/);
    const b = await runCli(['allowlist', 'eschat', '--from-report', reportFile]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--from-report takes the catalog from the report/);
    const notReport = join(dir, 'x.json');
    writeFileSync(notReport, '{"hello": 1}');
    const c = await runCli(['allowlist', '--from-report', notReport]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain(`--from-report ${notReport}: not a netcheck JSON report`);
    expect(c.stderr).not.toMatch(/\n\s+at /);
  });
});
