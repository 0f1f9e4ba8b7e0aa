/**
 * Report formats (issue 6): Markdown snapshots over a fixed report, JUnit parsed as JUnit, the HTML
 * file's self-containment, the published JSON Schema kept in sync and checked against real
 * reports, the environment parsers, and the CLI's --format/--output/--prometheus-textfile.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../../src/report/html.js';
import { RENDERERS } from '../../src/report/index.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { collectEnvironment, egressFromResults, parseIpv6Route, parseProcRoute, parseResolvConf, redactProxyCredentials } from '../../src/report/environment.js';
import { distributeParams, parseListen } from '../../src/cli/commands/daemon.js';
import { reportJsonSchema } from '../../src/report/schema.js';
import type { Report } from '../../src/types.js';
import { ROOT, runCli } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';

const FIXTURE = join(ROOT, 'test/fixtures/reports/report.json');
const fixture = (): Report => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Report;

function validator(): ReturnType<Ajv['compile']> {
  const ajv = new Ajv({ allErrors: true });
  // Real date-time validation (ajv-formats is not a dependency): ISO 8601 as Date#toISOString writes it.
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  return ajv.compile(reportJsonSchema());
}

describe('markdown', () => {
  it('matches the snapshot of the fixed report', async () => {
    await expect(renderMarkdown(fixture())).toMatchFileSnapshot('../fixtures/reports/__snapshots__/report.md');
  });

  it('keeps every table row at the column count of its header (pipes and markup escaped)', () => {
    const md = renderMarkdown(fixture());
    const rows = md.split('\n').filter((l) => l.startsWith('|'));
    let cols = 0;
    for (const row of rows) {
      const n = row.replace(/\\\|/g, '').split('|').length;
      if (/^\|---/.test(row)) continue;
      if (rows[rows.indexOf(row) + 1]?.startsWith('|---')) cols = n;
      expect(n, row).toBe(cols);
    }
    expect(md).not.toMatch(/<markup>/);
  });

  it('says the headline first and has a row per documented line', () => {
    const r = fixture();
    const md = renderMarkdown(r);
    expect(md.split('\n')[2]).toBe('**RESULT: 1 required line(s) failing**');
    for (const l of r.lines) expect(md).toContain(`\`${l.id}\``);
  });
});

describe('probe targets in every format', () => {
  it('an OCSP or CRL probe is named by its URL in text, Markdown and HTML, not by host:port', () => {
    const r = fixture();
    const base = r.probes.find((p) => p.status !== 'ok')!;
    const url = 'http://ocsp.example.net/ocsp/v2';
    r.probes.push(
      { ...base, id: 'x/ocsp', kind: 'ocsp', host: 'ocsp.example.net', port: 80, status: 'error', reason: 'OCSP_UNAUTHORIZED', detail: 'responder refused', data: { url } },
      { ...base, id: 'x/crl', kind: 'crl', host: 'crl.example.net', port: 80, status: 'error', reason: 'CRL_EXPIRED', detail: 'stale', data: { url: 'http://crl.example.net/ca.crl' } },
    );
    r.lines.find((l) => l.id === base.line)!.probes.push('x/ocsp', 'x/crl');
    for (const [name, text] of [
      ['text', RENDERERS.text!(r, { color: false, verbose: true })],
      ['markdown', renderMarkdown(r)],
      ['html', renderHtml(r)],
    ] as const) {
      expect(text, name).toContain(url);
      expect(text, name).toContain('http://crl.example.net/ca.crl');
      expect(text, name).not.toContain('ocsp.example.net:80');
    }
  });
});

describe('junit', () => {
  it('parses as JUnit with one testcase per documented line and the right outcome', () => {
    const r = fixture();
    const xml = renderJunit(r);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(xml);
    const suites = doc.testsuites.testsuite as Record<string, unknown>[];
    expect(suites).toHaveLength(r.sections.length);
    const cases = suites.flatMap((s) => s.testcase as Record<string, unknown>[]);
    expect(cases).toHaveLength(r.lines.length);
    expect(Number(doc.testsuites['@tests'])).toBe(r.lines.length);
    for (const l of r.lines) {
      const c = cases.find((x) => String(x['@name']).startsWith(`${l.id}: `))!;
      expect(c, l.id).toBeDefined();
      expect(!!c.failure, `${l.id} failure`).toBe(l.verdict === 'fail' || l.verdict === 'partial');
      expect(c.skipped !== undefined, `${l.id} skipped`).toBe(l.verdict === 'inconclusive');
      if (l.verdict === 'inconclusive') expect(String((c.skipped as Record<string, string>)['@message'])).toContain(l.reason);
    }
    expect(Number(doc.testsuites['@failures'])).toBe(r.lines.filter((l) => l.verdict === 'fail' || l.verdict === 'partial').length);
    expect(Number(doc.testsuites['@skipped'])).toBe(r.lines.filter((l) => l.verdict === 'inconclusive').length);
    // Markup in descriptions survives as text, not as XML.
    expect(cases.some((c) => String(c['@name']).includes('<markup> & "quotes"'))).toBe(true);
  });
});

describe('junit times (issue 16)', () => {
  it('add up: each suite is the sum of its cases, the run the sum of its suites, even when lines overlap', () => {
    // Every probe started at once and took 400 ms: lines overlap, as in any concurrent run, and
    // their sum (2 s) is far beyond the run's 450 ms of wall-clock time.
    const r = fixture();
    r.durationMs = 450;
    for (const p of r.probes) {
      p.startedAt = r.startedAt;
      p.durationMs = 400;
    }
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) }).parse(renderJunit(r));
    const ms = (v: unknown): number => Math.round(Number(v) * 1000);
    const suites = doc.testsuites.testsuite as Record<string, unknown>[];
    const total = ms(doc.testsuites['@time']);
    for (const s of suites) {
      expect(total, String(s['@name'])).toBeGreaterThanOrEqual(ms(s['@time']));
      expect(ms(s['@time']), String(s['@name'])).toBe((s.testcase as Record<string, unknown>[]).reduce((n, c) => n + ms(c['@time']), 0));
    }
    expect(total).toBe(suites.reduce((n, s) => n + ms(s['@time']), 0));
    // The wall-clock time is still there, as a property.
    const props = (suites[0]!.properties as { property: Record<string, string>[] }).property;
    expect(props.find((p) => p['@name'] === 'run.durationSeconds')!['@value']).toBe('0.450');
  });
});

describe('html', () => {
  it('is one self-contained file: no script, no external URL, a CSP that forbids fetching', () => {
    const html = renderHtml(fixture());
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    // Nothing that a browser would load: no src/href/action attributes at all (the SVG xmlns is a name).
    expect(html).not.toMatch(/\s(src|href|action|srcset|poster|data|xlink:href)\s*=/i);
    expect(html).toContain('<svg id="timeline"');
    expect(html).toContain('<svg id="idle-chart"');
    expect(html).not.toContain('<markup>');
  });
});

describe('renderers are pure', () => {
  it('give the same output for the same report, and do not modify it', () => {
    const r = fixture();
    const before = JSON.stringify(r);
    for (const [name, render] of Object.entries(RENDERERS)) {
      expect(render(r, { color: false }), name).toBe(render(fixture(), { color: false }));
    }
    expect(JSON.stringify(r)).toBe(before);
  });
});

describe('report JSON Schema', () => {
  it('schema/report.schema.json is what `netcheck schema report` prints', () => {
    const file = JSON.parse(readFileSync(join(ROOT, 'schema/report.schema.json'), 'utf8'));
    expect(file, 'regenerate with: node bin/netcheck.js schema report > schema/report.schema.json').toEqual(reportJsonSchema());
  });

  it('accepts the fixture and rejects a broken report', () => {
    const validate = validator();
    expect(validate(fixture()), JSON.stringify(validate.errors)).toBe(true);
    const broken = fixture() as unknown as Record<string, Record<string, unknown>>;
    broken.environment!.dns = { servers: 'x', source: 'somewhere' };
    expect(validate(broken)).toBe(false);
  });
});

describe('environment parsers', () => {
  it('reads default routes from /proc/net/route and /proc/net/ipv6_route', () => {
    const v4 = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0111A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0011A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
wg0\t00000000\t00000000\t0001\t0\t0\t50\t00000000\t0\t0\t0
`;
    expect(parseProcRoute(v4)).toEqual([
      { family: 4, interface: 'wg0', metric: 50 },
      { family: 4, interface: 'eth0', gateway: '192.168.17.1', metric: 100 },
    ]);
    const v6 = `00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
fd123456789a00000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;
    expect(parseIpv6Route(v6)).toEqual([{ family: 6, interface: 'eth0', gateway: 'fe80::1', metric: 1024 }]);
  });

  it('reads resolv.conf and masks proxy credentials', () => {
    expect(parseResolvConf('# x\nnameserver 10.0.0.53\nnameserver ::1 # local\nsearch corp.example lab.example\noptions ndots:2\n')).toEqual({
      servers: ['10.0.0.53', '::1'],
      search: ['corp.example', 'lab.example'],
    });
    expect(redactProxyCredentials('http://alice:s3cret@proxy:3128')).toBe('http://***:***@proxy:3128');
    expect(redactProxyCredentials('bob@proxy:3128')).toBe('***@proxy:3128');
    expect(redactProxyCredentials('http://proxy:3128')).toBe('http://proxy:3128');
  });
});

describe('collectEnvironment', () => {
  it('reads routes, resolver and proxies from the given files and environment, masking credentials', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-env-'));
    mkdirSync(join(dir, 'net'));
    writeFileSync(join(dir, 'net/route'), 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n');
    writeFileSync(join(dir, 'net/ipv6_route'), '');
    writeFileSync(join(dir, 'resolv.conf'), 'nameserver 192.168.1.53\nsearch home.arpa\n');
    const env = { HTTPS_PROXY: 'http://u:p@proxy:3128', no_proxy: 'localhost' };
    const e = collectEnvironment({ procDir: dir, resolvConf: join(dir, 'resolv.conf'), env, now: new Date('2026-01-02T03:04:05.000Z') });
    expect(e.defaultRoutes).toEqual([{ family: 4, interface: 'eth0', gateway: '192.168.1.1', metric: 100 }]);
    expect(e.dns).toEqual({ servers: ['192.168.1.53'], source: 'resolv.conf', search: ['home.arpa'] });
    expect(e.proxy).toEqual([{ name: 'HTTPS_PROXY', value: 'http://***:***@proxy:3128' }, { name: 'no_proxy', value: 'localhost' }]);
    expect(e.time.collectedAt).toBe('2026-01-02T03:04:05.000Z');
    expect(e.node).toBe(process.version);
    expect(e.interfaces.some((i) => i.addresses.some((a) => a.address === '127.0.0.1'))).toBe(true);
    // --dns-server wins over resolv.conf: those are the servers the run used.
    expect(collectEnvironment({ procDir: dir, resolvConf: join(dir, 'resolv.conf'), env: {}, dnsServers: ['127.0.0.1:5353'] }).dns).toEqual({ servers: ['127.0.0.1:5353'], source: 'dns-server' });
    // Nothing readable (no /proc, no resolv.conf, no netstat, an empty resolver list): unknown, not none (issue 15).
    expect(collectEnvironment({ procDir: join(dir, 'none'), resolvConf: join(dir, 'none'), env: {}, run: () => undefined, systemDnsServers: () => [] })).toMatchObject({ defaultRoutes: [], routeSource: 'unknown', dns: { servers: [], source: 'unknown' }, proxy: [] });
  });
});

describe('egress address', () => {
  it('comes from a STUN mapped address, else from the source a reflector saw, else is unknown', () => {
    expect(egressFromResults([{ kind: 'stun', host: 'stun.example', data: { mapped: { address: '198.51.100.7', port: 4000, family: 4 } } }])).toEqual({ address: '198.51.100.7', source: 'stun probe of stun.example' });
    expect(egressFromResults([{ kind: 'udp-idle', host: 'r.example', data: { flows: [{ seen: '198.51.100.8:5123' }] } }])?.address).toBe('198.51.100.8');
    expect(egressFromResults([{ kind: 'tcp-idle', host: 'r.example', data: { flows: [{ seen: '[2001:db8::9]:443' }] } }])?.address).toBe('2001:db8::9');
    expect(egressFromResults([{ kind: 'tcp', host: 'x', data: {} }])).toBeUndefined();
  });
});

describe('daemon option parsing', () => {
  it('parses --listen', () => {
    expect(parseListen('127.0.0.1:9469')).toEqual({ host: '127.0.0.1', port: 9469 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen(':9469')).toEqual({ host: '127.0.0.1', port: 9469 });
    expect(() => parseListen('9469')).toThrow(/--listen '9469'/);
    expect(() => parseListen('example.com:80')).toThrow(/--listen/);
  });

  it('gives each catalog the parameters it declares; scoped ones to one catalog only', () => {
    const cats = [{ id: 'a', declared: ['port', 'x'] }, { id: 'b', declared: ['port'] }];
    const m = distributeParams(cats, { port: '1', x: '2', 'b:port': '3' });
    expect(m.get('a')).toEqual({ port: '1', x: '2' });
    expect(m.get('b')).toEqual({ port: '3' });
    expect(() => distributeParams(cats, { y: '1' })).toThrow(/--y: none of the catalogs/);
    expect(() => distributeParams(cats, { 'b:x': '1' })).toThrow(/catalog 'b' has no parameter 'x'/);
  });
});

describe('CLI formats on a real loopback run', () => {
  let lab: LabServers;
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-reports-'));
  beforeAll(async () => {
    lab = await startLabServers();
  });
  afterAll(async () => lab?.close());

  it('--format markdown|html|junit|json to stdout, each valid for its kind', async () => {
    const validate = validator();
    for (const format of ['markdown', 'html', 'junit', 'json']) {
      const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--format', format, '-q']);
      expect(r.code, `${format}: ${r.stderr}`).toBe(1); // the signaling line is refused on purpose
      expect(r.stderr).toBe('');
      if (format === 'json') {
        const report = JSON.parse(r.stdout) as Report;
        expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
        expect(report.environment?.node).toBe(process.version);
        expect(report.lines.find((l) => l.id === 'signaling')!.verdict).toBe('fail');
        expect(report.lines.find((l) => l.id === 'portal')!.verdict).toBe('pass');
      }
      if (format === 'markdown') expect(r.stdout).toMatch(/^# netcheck: /);
      if (format === 'html') expect(r.stdout).toMatch(/^<!DOCTYPE html>/);
      if (format === 'junit') expect(new XMLParser().parse(r.stdout).testsuites).toBeDefined();
    }
  }, 90_000);

  it('--output picks the format from the extension and writes the file', async () => {
    for (const [ext, start] of [['md', '# netcheck'], ['html', '<!DOCTYPE html>'], ['xml', '<?xml']] as const) {
      const out = join(dir, `report.${ext}`);
      const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--output', out, '-q']);
      expect(r.code).toBe(1);
      expect(readFileSync(out, 'utf8').startsWith(start), ext).toBe(true);
      // The terminal still gets the readable text report.
      expect(r.stdout).toContain('RESULT:');
    }
  }, 90_000);

  it('Markdown or HTML without --redact: one note on stderr of what they reveal and how to redact (issue 16)', async () => {
    const base = ['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s'];
    const notes = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('netcheck: note: the '));
    const md = await runCli([...base, '--output', join(dir, 'share.md')]);
    expect(notes(md.stderr)).toHaveLength(1);
    expect(notes(md.stderr)[0]).toMatch(/^netcheck: note: the Markdown report includes this host's name \(.+\), .*internal addresses it checked \(127\.0\.0\.1\).*; before sharing it outside your organisation, run again with --redact to mask them$/);
    const html = await runCli([...base, '--format', 'html']);
    expect(notes(html.stderr)).toEqual([expect.stringContaining('the HTML report includes')]);
    // Redacted, or a format not meant for a ticket: nothing to say.
    expect(notes((await runCli([...base, '--format', 'markdown', '--redact'])).stderr)).toEqual([]);
    expect(notes((await runCli([...base, '--format', 'json'])).stderr)).toEqual([]);
  }, 90_000);

  it('--prometheus-textfile writes metrics that promtool accepts', async (ctx) => {
    const out = join(dir, 'netcheck.prom');
    const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--prometheus-textfile', out, '-q', '--format', 'json']);
    expect(r.code).toBe(1);
    JSON.parse(r.stdout); // stdout still carries only the JSON
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/^netcheck_probe_success\{catalog="lab-report",line="portal",kind="tcp",target="127\.0\.0\.1:\d+"\} 1$/m);
    expect(text).toMatch(/^netcheck_probe_success\{catalog="lab-report",line="signaling",kind="tcp",target="127\.0\.0\.1:\d+"\} 0$/m);
    expect(text).toMatch(/^netcheck_line_verdict\{catalog="lab-report",section="signaling",line="signaling",required="true",verdict="fail"\} 1$/m);
    const promtool = needTools('the promtool check of --prometheus-textfile', ['promtool'])?.promtool;
    if (!promtool) return ctx.skip();
    const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  }, 90_000);

  it('a --prometheus-textfile that cannot be written is a clear error, exit 2, before the run (issue 11)', async () => {
    const r = await runCli(['run', '--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '1s', '--prometheus-textfile', join(dir, 'no/such/dir/x.prom'), '-q', '--format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^netcheck: --prometheus-textfile .*x\.prom: the folder .*dir does not exist; nothing was sent\n$/);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('`netcheck schema report` prints the published schema', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'bin/netcheck.js'), 'schema', 'report'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(JSON.parse(readFileSync(join(ROOT, 'schema/report.schema.json'), 'utf8')));
  });
});
