/**
 * The LivePerson, Conversation Builder and Commversion catalogs against their documents
 * (../shared/seeds/000…, 001…, 002…): `netcheck plan … --json` must list exactly the probes each
 * document implies, counted here from the document. Nothing is sent: only `plan` runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCidr, cidrContains } from '../../src/util/ip.js';
import { planJson, type PlanRow } from '../helpers/catalog.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'nc-catalogs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const plan = planJson;

// The document's table, as printed (000_d782695f0a303d8a.txt), including its "178.249.100.0 /22".
const LP_V4 = ['43.251.40.0/22', '103.42.132.0/22', '162.252.72.0/22', '162.252.76.0/22', '178.249.96.0/22', '178.249.100.0/22', '199.187.116.0/22', '208.89.12.0/22', '185.6.224.0/22'];
const LP_V6 = '2a03:6400::/32';
const LP_GATEWAYS: [string, string][] = [
  ['gw1.mgmt.fs.liveperson.com', '34.193.104.2'],
  ['gw2.mgmt.fs.liveperson.com', '52.6.58.86'],
  ['gw1.emea.fs.liveperson.com', '52.30.229.238'],
  ['gw2.emea.fs.liveperson.com', '54.72.49.55'],
  ['gw1.apac.fs.liveperson.com', '52.63.172.179'],
  ['gw2.apac.fs.liveperson.com', '13.210.123.189'],
];
const LP_DOMAINS = ['liveperson.com', 'liveperson.net', 'livepersonapis.com', 'lpsnmedia.net', 'liveengage.net', 'liveengage.com', 'liveper.sn'];
const LP_REVOCATION = ['crl.verisign.com', 'crl.thawte.com', 'crl.comodoca.com', 'crl.geotrust.com', 'crl.omniroot.com', 'ocsp.verisign.com', 'ocsp.thawte.com', 'ocsp.comodoca.com', 'ocsp.usertrust.com', 'ocsp.geotrust.com'];

describe('netcheck plan liveperson', () => {
  it('lists exactly the probes the document implies', async () => {
    const rows = await plan('liveperson');
    const sent = rows.filter((r) => !r.skip);

    // Nine IPv4 /22 blocks and one IPv6 /32, each sampled (4 addresses) on TCP 80 and 443, and TLS
    // on 443 judged for interception (no SNI: bare addresses).
    for (const cidr of [...LP_V4, LP_V6]) {
      const rs = rows.filter((r) => r.sampledFrom === cidr);
      expect(rs, cidr).toHaveLength(4 * 3);
      const range = parseCidr(cidr);
      for (const r of rs) {
        expect(['tcp', 'tls']).toContain(r.kind);
        expect(cidrContains(range, r.host)).toBe(true);
      }
      expect(rs.filter((r) => r.kind === 'tcp' && r.port === 80)).toHaveLength(4);
      expect(rs.filter((r) => r.kind === 'tcp' && r.port === 443)).toHaveLength(4);
      expect(rs.filter((r) => r.kind === 'tls').map((r) => [r.port, r.options])).toEqual(Array(4).fill([443, { interceptionOnly: true }]));
    }

    // WebSockets on 443: the path to a LivePerson host (TCP, and TLS not intercepted: a WebSocket
    // does not survive re-signing), and a held WebSocket (needs a reflector: the document names no
    // endpoint to hold one against).
    const ws = rows.filter((r) => r.line === 'websocket-443');
    expect(ws.map((r) => `${r.kind} ${r.host}:${r.port}`)).toEqual(['tcp liveperson.net:443', 'tls liveperson.net:443']);
    const hold = rows.filter((r) => r.line === 'websocket-hold');
    expect(hold.map((r) => `${r.kind} ${r.skip}`)).toEqual(['ws-hold parameter --websocket-reflector not set']);

    // Six bot gateways: DNS drift (the name must resolve to the document's address), and the
    // inbound rule listed as skipped (the gateways connect to the customer's bots).
    for (const [name, ip] of LP_GATEWAYS) {
      const rs = rows.filter((r) => r.host === name || r.id.startsWith(`bot-${name.split('.').slice(0, 2).join('-')}/`));
      const dns = rs.find((r) => r.kind === 'dns')!;
      expect(dns.host).toBe(name);
      expect(dns.options?.expectAddresses).toEqual([ip]);
      expect(rs.filter((r) => r.skip?.startsWith('inbound'))).toHaveLength(1);
      expect(rs).toHaveLength(2);
    }

    // Seven second-level domains: DNS (with drift against the published ranges) + HTTPS.
    for (const d of LP_DOMAINS) {
      const rs = rows.filter((r) => r.host === d && r.line.startsWith('domain-'));
      expect(rs.map((r) => `${r.kind}:${r.port}`).sort()).toEqual(['dns:null', 'http:443']);
      expect(rs.find((r) => r.kind === 'dns')!.options?.expectAddresses).toEqual([...LP_V4, LP_V6]);
    }

    // Five CRL servers (an HTTP GET on port 80: the document names servers, not CRL files) and five
    // OCSP responders (a real OCSP request to the documented URL).
    for (const h of LP_REVOCATION) {
      const rs = rows.filter((r) => r.host === h);
      expect(rs, h).toHaveLength(1);
      if (h.startsWith('crl.')) expect([rs[0]!.kind, rs[0]!.port, rs[0]!.options]).toEqual(['http', 80, { scheme: 'http' }]);
      else expect([rs[0]!.kind, rs[0]!.port, rs[0]!.options]).toEqual(['ocsp', 80, { url: `http://${h}/` }]);
    }

    // Vanity URL domains: a parameter; without it, planned as skipped with the reason.
    const vanity = rows.filter((r) => r.line === 'vanity-domains');
    expect(vanity).toHaveLength(2);
    for (const r of vanity) expect(r.skip).toBe('parameter --vanity-hosts not set');

    // 10 ranges × 4 × 3 + 3 WebSocket + 6 × (dns + inbound) + 7 × (dns + https) + 10 + 2
    expect(rows).toHaveLength(120 + 3 + 12 + 14 + 10 + 2);
    expect(sent).toHaveLength(120 + 2 + 6 + 14 + 10);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  });

  it('takes vanity domains and a sample size; --sweep covers every IPv4 address and keeps the /32 sampled', async () => {
    const rows = await plan('liveperson', ['--vanity-hosts', 'chat.example.com,help.example.com', '--sample', '2', '--websocket-reflector', 'reflector.example.net']);
    expect(rows.filter((r) => r.line === 'vanity-domains' && !r.skip)).toHaveLength(4);
    const hold = rows.find((r) => r.line === 'websocket-hold')!;
    expect([hold.kind, hold.host, hold.port, hold.skip]).toEqual(['ws-hold', 'reflector.example.net', 443, undefined]);
    expect(hold.options).toMatchObject({ hold: '15m' });
    expect(rows.filter((r) => r.sampledFrom)).toHaveLength(10 * 2 * 3);

    const swept = await plan('liveperson', ['--sweep']);
    for (const cidr of LP_V4) expect(swept.filter((r) => r.sampledFrom === cidr)).toHaveLength(1022 * 3);
    expect(swept.filter((r) => r.sampledFrom === LP_V6)).toHaveLength(12);
    expect(swept).toHaveLength(9 * 1022 * 3 + 12 + 41);
  });

  it('--sweep beyond --max-targets is refused naming the range', async () => {
    const r = await runCli(['plan', 'liveperson', '--sweep', '--max-targets', '100', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('43.251.40.0/22 holds 1024 addresses, more than the sweep cap of 100');
  });
});

/** A fixture in Amazon's published ip-ranges.json format. */
function ipRangesFixture(): string {
  const file = join(tmp, 'ip-ranges.json');
  const p = (ip_prefix: string, region: string, service: string): object => ({ ip_prefix, region, service, network_border_group: region });
  const p6 = (ipv6_prefix: string, region: string, service: string): object => ({ ipv6_prefix, region, service, network_border_group: region });
  writeFileSync(
    file,
    JSON.stringify({
      syncToken: '1763000000',
      createDate: '2026-11-20-12-00-00',
      prefixes: [
        p('3.5.140.0/22', 'ap-northeast-2', 'AMAZON'),
        p('3.80.0.0/12', 'us-east-1', 'AMAZON'),
        p('3.80.0.0/12', 'us-east-1', 'EC2'),
        p('18.208.0.0/13', 'us-east-1', 'EC2'),
        p('52.58.0.0/15', 'eu-central-1', 'EC2'),
        p('13.32.0.0/15', 'GLOBAL', 'CLOUDFRONT'),
        p('52.95.110.0/24', 'us-east-1', 'ROUTE53'),
      ],
      ipv6_prefixes: [p6('2600:1f18::/33', 'us-east-1', 'EC2'), p6('2600:9000::/28', 'GLOBAL', 'CLOUDFRONT'), p6('2a05:d018::/35', 'eu-west-1', 'EC2')],
    }),
  );
  return file;
}

describe('netcheck plan conversation-builder', () => {
  it('--hosting aws --ip-ranges FILE: EC2 and CloudFront prefixes of the region, both directions', async () => {
    const file = ipRangesFixture();
    const rows = await plan('conversation-builder', ['--hosting', 'aws', '--ip-ranges', file, '--aws-region', 'us-east-1']);
    const of = (line: string): PlanRow[] => rows.filter((r) => r.line === line);

    expect(of('web-portal-domain').map((r) => `${r.kind} ${r.host}:${r.port}`).sort()).toEqual(['dns livepersonai.com:null', 'http livepersonai.com:443']);
    // Web portal: CloudFront (GLOBAL counts in every region) + EC2 in us-east-1, one address each, TCP 443.
    expect(of('web-portal-ranges').map((r) => r.sampledFrom).sort()).toEqual(['13.32.0.0/15', '18.208.0.0/13', '2600:1f18::/33', '2600:9000::/28', '3.80.0.0/12']);
    // Web View API: EC2 only.
    expect(of('web-view-api').map((r) => r.sampledFrom).sort()).toEqual(['18.208.0.0/13', '2600:1f18::/33', '3.80.0.0/12']);
    for (const r of [...of('web-portal-ranges'), ...of('web-view-api')]) {
      expect(r.kind).toBe('tcp');
      expect(r.port).toBe(443);
      expect(cidrContains(parseCidr(r.sampledFrom!), r.host)).toBe(true);
    }
    // Conversation Builder → brand: inbound, listed with why, never sent.
    for (const l of ['agent-connectors', 'api-integrations', 'custom-integrations']) {
      expect(of(l)).toHaveLength(1);
      expect(of(l)[0]!.skip).toMatch(/^inbound: /);
      expect(of(l)[0]!.required).toBe(false);
    }
    // Media and short-URL domains are parameters.
    expect(of('media-domains').every((r) => r.skip === 'parameter --media-hosts not set')).toBe(true);
    expect(of('short-url-domain').every((r) => r.skip === 'parameter --short-url-host not set')).toBe(true);
    expect(of('liveperson-cloud-domain')).toHaveLength(0);
    expect(rows).toHaveLength(2 + 5 + 3 + 3 + 2 + 2);
  });

  it('without a region every region counts; without ip-ranges the AWS lines say what they need', async () => {
    const file = ipRangesFixture();
    const all = await plan('conversation-builder', ['--hosting', 'aws', '--ip-ranges', file]);
    expect(all.filter((r) => r.line === 'web-view-api').map((r) => r.sampledFrom).sort()).toEqual(['18.208.0.0/13', '2600:1f18::/33', '2a05:d018::/35', '3.80.0.0/12', '52.58.0.0/15']);

    const none = await plan('conversation-builder', ['--hosting', 'aws', '--media-hosts', 'media.example.com']);
    const aws = none.filter((r) => r.line === 'web-portal-ranges' || r.line === 'web-view-api');
    expect(aws).toHaveLength(2);
    for (const r of aws) expect(r.skip).toMatch(/--ip-ranges FILE/);
    expect(none.filter((r) => r.line === 'media-domains' && !r.skip).map((r) => r.kind).sort()).toEqual(['dns', 'http']);
  });

  it('LivePerson Cloud hosting: only the liveperson.net line and the media lines apply', async () => {
    const rows = await plan('conversation-builder', ['--hosting', 'liveperson']);
    expect([...new Set(rows.map((r) => r.line))]).toEqual(['liveperson-cloud-domain', 'media-domains', 'short-url-domain']);
  });

  it('hosting is required, and an unknown region names the regions in the file', async () => {
    const r = await runCli(['plan', 'conversation-builder', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs --hosting/);
    const bad = await runCli(['plan', 'conversation-builder', '--hosting', 'aws', '--ip-ranges', ipRangesFixture(), '--aws-region', 'mars-1', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/lists no .*prefixes in region mars-1; regions in the file: GLOBAL, ap-northeast-2, eu-central-1, eu-west-1, us-east-1/);
  });

  const malformed: [string, string, string][] = [
    ['not JSON', '{"prefixes": [', "not valid JSON"],
    ['no prefixes', '{"syncToken": "1"}', "prefixes: missing key 'prefixes'"],
    ['bad prefix', JSON.stringify({ prefixes: [{ ip_prefix: '3.80.0.0/12', region: 'us-east-1', service: 'EC2' }, { ip_prefix: '3.5.140.0/33', region: 'x', service: 'EC2' }] }), "prefixes[1].ip_prefix: '3.5.140.0/33': prefix length must be 0-32 for IPv4"],
    ['missing service', JSON.stringify({ prefixes: [{ ip_prefix: '3.80.0.0/12', region: 'us-east-1' }] }), "prefixes[0].service: missing key 'service'"],
    ['v4 in the v6 list', JSON.stringify({ prefixes: [], ipv6_prefixes: [{ ipv6_prefix: '3.80.0.0/12', region: 'us-east-1', service: 'EC2' }] }), "ipv6_prefixes[0].ipv6_prefix: '3.80.0.0/12' is not an IPv6 CIDR range"],
  ];
  for (const [name, text, message] of malformed) {
    it(`a malformed ip-ranges.json (${name}) is one clear error naming the file and key, exit 2`, async () => {
      const file = join(tmp, `bad-${name.replace(/\W+/g, '-')}.json`);
      writeFileSync(file, text);
      const r = await runCli(['plan', 'conversation-builder', '--hosting', 'aws', '--ip-ranges', file, '--json']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`netcheck: ${file}: `);
      expect(lines[0]).toContain(message);
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    });
  }

  it('a missing ip-ranges file is a clear error, exit 2', async () => {
    const r = await runCli(['plan', 'conversation-builder', '--hosting', 'aws', '--ip-ranges', join(tmp, 'nope.json'), '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`netcheck: ${join(tmp, 'nope.json')}: cannot read ip-ranges file: ENOENT`);
  });
});

describe('netcheck plan commversion', () => {
  it('without lists: the egress discovery runs, every list line says which parameter it needs', async () => {
    const rows = await plan('commversion');
    expect(rows.filter((r) => !r.skip).map((r) => `${r.kind} ${r.host}:${r.port}`)).toEqual(['stun stun.l.google.com:19302']);
    const skip = Object.fromEntries(rows.filter((r) => r.skip).map((r) => [r.line, r.skip]));
    expect(skip['banned-ips']).toBe('parameter --banned-ips not set');
    expect(skip['client-sites']).toBe('parameter --client-sites not set');
    for (const l of ['platform-ips', 'office-ips', 'agent-ips']) expect(skip[l]).toMatch(/^inbound: /);
    expect(rows).toHaveLength(6);
  });

  it('with lists: one ip-list check per banned entry against the platform and office lists, sites over HTTPS with block pages detected', async () => {
    const banned = join(tmp, 'banned.txt');
    const office = join(tmp, 'office.txt');
    const platform = join(tmp, 'platform.txt');
    writeFileSync(banned, '# banned customers\n198.51.100.5\n203.0.113.0/29, 192.0.2.77\n');
    writeFileSync(office, '198.51.100.0/28\n');
    writeFileSync(platform, '192.0.2.10\n');
    const rows = await plan('commversion', ['--banned-ips', banned, '--office-ips', office, '--platform-ips', platform, '--client-sites', 'www.client.example,shop.client.example', '--stun-server', '127.0.0.1', '--stun-port', '3478']);
    const lists = rows.filter((r) => r.line === 'banned-ips');
    expect(lists.map((r) => r.host)).toEqual(['198.51.100.5', '203.0.113.0/29', '192.0.2.77']);
    for (const r of lists) {
      expect(r.kind).toBe('ip-list');
      expect((r.options!.disjointFrom as { param: string }[]).map((d) => d.param)).toEqual(['platform-ips', 'office-ips']);
    }
    const sites = rows.filter((r) => r.line === 'client-sites');
    expect(sites.map((r) => `${r.host}:${r.port}`)).toEqual(['www.client.example:443', 'shop.client.example:443']);
    expect(sites[0]!.options).toMatchObject({ scheme: 'https', blockStatuses: [403, 451] });
    expect(rows.filter((r) => r.line === 'egress-address').map((r) => `${r.kind} ${r.host}:${r.port}`)).toEqual(['stun 127.0.0.1:3478']);
    expect(rows).toHaveLength(3 + 3 + 2 + 1);
  });

  it('a bad entry in a list file is one error naming the flag, file and line (exit 2)', async () => {
    const banned = join(tmp, 'banned-bad.txt');
    writeFileSync(banned, '198.51.100.5\n\n# next one is broken\n203.0.113.300\n');
    const r = await runCli(['plan', 'commversion', '--banned-ips', banned, '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`netcheck: --banned-ips ${banned}:4: '203.0.113.300' is not an IP address or CIDR range`);
    const missing = await runCli(['plan', 'commversion', '--office-ips', join(tmp, 'none.txt'), '--json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`netcheck: --office-ips: cannot read '${join(tmp, 'none.txt')}': ENOENT`);
  });
});

describe('catalogs validate', () => {
  it('every built-in catalog validates', async () => {
    const r = await runCli(['validate', 'probes/liveperson.yaml', 'probes/conversation-builder.yaml', 'probes/commversion.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
