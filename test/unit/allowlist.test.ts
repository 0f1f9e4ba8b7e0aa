/**
 * `netcheck allowlist` and `netcheck match`: the rules a catalog implies (whole ranges, never the
 * samples a run probes), in every format, each citing its document line; and which documented lines
 * cover an address. Nothing is sent. The nftables text is also checked by `nft -c` (syntax only,
 * nothing loaded) when nft is installed; loading it for real is test/lab/allowlist.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collapseCidrs } from '../../src/allowlist/rules.js';
import { runCli } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';

const tmp = mkdtempSync(join(tmpdir(), 'nc-allowlist-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
if (!ROOT) console.warn('SKIPPED the nft -c and iptables-restore --test checks of the allowlist output: they need root (CI runs as root)');
const NFT = ROOT ? needTools('the nft -c check of the allowlist output', ['nft'])?.nft : undefined;
const IPT = ROOT ? needTools('the iptables-restore --test check of the allowlist output', ['iptables-restore', 'ip']) : undefined;

function ipRanges(): string {
  const file = join(tmp, 'ip-ranges.json');
  writeFileSync(
    file,
    JSON.stringify({
      syncToken: '1',
      createDate: '2026-11-20-12-00-00',
      prefixes: [
        { ip_prefix: '3.80.0.0/12', region: 'us-east-1', service: 'EC2', network_border_group: 'us-east-1' },
        // Contained in the /12 above: folded into it in a rule.
        { ip_prefix: '3.81.0.0/16', region: 'us-east-1', service: 'EC2', network_border_group: 'us-east-1' },
        { ip_prefix: '52.58.0.0/15', region: 'eu-central-1', service: 'EC2', network_border_group: 'eu-central-1' },
        { ip_prefix: '13.32.0.0/15', region: 'GLOBAL', service: 'CLOUDFRONT', network_border_group: 'GLOBAL' },
        { ip_prefix: '54.239.0.0/17', region: 'us-east-1', service: 'AMAZON', network_border_group: 'us-east-1' },
      ],
      ipv6_prefixes: [{ ipv6_prefix: '2600:1f18::/33', region: 'us-east-1', service: 'EC2', network_border_group: 'us-east-1' }],
    }),
  );
  return file;
}

interface JsonRule {
  line: string;
  direction: string;
  protocol: string;
  ports: number[];
  v4: string[];
  v6: string[];
  names: string[];
  source: string;
  quote?: string;
}

async function json(args: string[]): Promise<{ rules: JsonRule[]; notes: { line: string; reason: string }[] }> {
  const r = await runCli(['allowlist', ...args, '--format', 'json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

describe('collapseCidrs', () => {
  it('drops duplicates and ranges inside larger ones, keeps families apart', () => {
    expect(collapseCidrs(['10.0.1.0/24', '10.0.0.0/16', '10.0.0.0/16', '192.0.2.1', '2001:db8::/32', '2001:db8:1::/48', '10.1.0.0/16'])).toEqual([
      '10.0.0.0/16',
      '10.1.0.0/16',
      '192.0.2.1',
      '2001:db8::/32',
    ]);
  });
});

describe('netcheck allowlist', () => {
  it('liveperson: every range whole (not the samples), both families, names as names, each with its document line', async () => {
    const a = await json(['liveperson']);
    const r = (line: string): JsonRule[] => a.rules.filter((x) => x.line === line);
    expect(r('ipv4-178-249-100-0')).toEqual([
      expect.objectContaining({ direction: 'outbound', protocol: 'tcp', ports: [80, 443], v4: ['178.249.100.0/22'], v6: [], source: '000_d782695f0a303d8a.txt', quote: expect.stringContaining('178.249.100.0 /22') }),
    ]);
    expect(r('ipv6-2a03-6400')[0]!.v6).toEqual(['2a03:6400::/32']);
    // Bot gateways connect in: inbound rules from the documented address, on --bot-ports (443).
    expect(r('bot-gw2-mgmt')).toEqual([expect.objectContaining({ direction: 'inbound', ports: [443], v4: ['52.6.58.86'], names: ['gw2.mgmt.fs.liveperson.com'] })]);
    expect(r('domain-liveper-sn')).toEqual([expect.objectContaining({ direction: 'outbound', ports: [443], v4: [], names: ['liveper.sn'] })]);
    expect(r('crl-omniroot-com').length + r('ocsp-usertrust-com').length).toBeGreaterThanOrEqual(2);
    // 10 ranges + WebSocket host + 6 gateways + 7 domains + 10 revocation servers; no reflector/vanity given.
    expect(a.rules).toHaveLength(10 + 1 + 6 + 7 + 10);
    expect(a.notes.map((n) => n.line).sort()).toEqual(['vanity-domains', 'websocket-hold']);
  });

  it('conversation-builder with ip-ranges: outbound and inbound rules from the EC2/CloudFront prefixes', async () => {
    const a = await json(['conversation-builder', '--hosting', 'aws', '--ip-ranges', ipRanges(), '--aws-region', 'us-east-1', '--brand-ports', '443,8443']);
    const r = (line: string): JsonRule => a.rules.find((x) => x.line === line)!;
    expect(r('web-portal-ranges')).toMatchObject({ direction: 'outbound', ports: [443], v4: ['3.80.0.0/12', '13.32.0.0/15'], v6: ['2600:1f18::/33'] });
    expect(r('web-view-api')).toMatchObject({ direction: 'outbound', v4: ['3.80.0.0/12'] });
    for (const l of ['agent-connectors', 'api-integrations', 'custom-integrations']) {
      expect(r(l)).toMatchObject({ direction: 'inbound', ports: [443, 8443], v4: ['3.80.0.0/12'], v6: ['2600:1f18::/33'] });
    }
    expect(r('web-portal-domain')).toMatchObject({ names: ['livepersonai.com'] });
  });

  it('conversation-builder without ip-ranges says which lines need it', async () => {
    const a = await json(['conversation-builder', '--hosting', 'aws']);
    expect(a.notes.filter((n) => /ip-ranges/.test(n.reason)).map((n) => n.line).sort()).toEqual(['agent-connectors', 'api-integrations', 'custom-integrations', 'web-portal-ranges', 'web-view-api']);
  });

  it('commversion: the lists become inbound rules for the client; the ban list is not a firewall rule', async () => {
    writeFileSync(join(tmp, 'office.txt'), '198.51.100.0/28\n2001:db8:5::/48\n');
    writeFileSync(join(tmp, 'agents.txt'), '192.0.2.44\n');
    const a = await json(['commversion', '--office-ips', join(tmp, 'office.txt'), '--agent-ips', join(tmp, 'agents.txt'), '--client-sites', 'www.client.example']);
    expect(a.rules.find((x) => x.line === 'office-ips')).toMatchObject({ direction: 'inbound', ports: [80, 443], v4: ['198.51.100.0/28'], v6: ['2001:db8:5::/48'] });
    expect(a.rules.find((x) => x.line === 'agent-ips')).toMatchObject({ direction: 'inbound', v4: ['192.0.2.44'] });
    expect(a.rules.find((x) => x.line === 'client-sites')).toMatchObject({ direction: 'outbound', names: ['www.client.example'] });
    expect(a.rules.find((x) => x.line === 'egress-address')).toMatchObject({ protocol: 'udp', ports: [19302] });
    expect(a.notes.find((n) => n.line === 'banned-ips')!.reason).toMatch(/open no connection/);
  });

  it('nft: chains with one rule per line and family, each after its document line', async () => {
    const r = await runCli(['allowlist', 'eschat', '--signaling-port', '7400', '--format', 'nft']);
    expect(r.code).toBe(0);
    const text = r.stdout;
    expect(text).toContain('table inet filter {');
    expect(text).toContain('chain netcheck_outbound {');
    expect(text).toMatch(/# data-primary \(outbound\) ESChat data server \(003_e6f92b867918c25f\.txt\)\n {4}# {3}"ESChat Data Ports \| Primary: [^\n]*"\n {4}ip daddr \{ 3\.23\.41\.163, 3\.140\.60\.106, 18\.221\.84\.42 \} udp dport \{ 4201-4264 \} accept comment "eschat data-primary"/);
    expect(text).toContain('ip daddr { 17.0.0.0/8 } tcp dport { 80, 5223 } accept comment "eschat apns"');
    expect(text).toMatch(/by name .*TCP 80,443 to maps\.googleapis\.com/);
    if (NFT) {
      const f = join(tmp, 'eschat.nft');
      writeFileSync(f, text);
      // -c: parse and check only, nothing is loaded.
      execFileSync(NFT, ['-c', '-f', f]);
    }
  });

  it('iptables / ip6tables: iptables-restore text, one rule per address, multiport split at 15', async () => {
    const r = await runCli(['allowlist', 'liveperson', '--format', 'iptables']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\*filter$/m);
    expect(r.stdout).toMatch(/^:NETCHECK-OUT - \[0:0\]$/m);
    expect(r.stdout).toContain('-A NETCHECK-OUT -d 43.251.40.0/22 -p tcp -m multiport --dports 80,443 -m comment --comment "liveperson ipv4-43-251-40-0" -j ACCEPT');
    expect(r.stdout).toContain('-A NETCHECK-IN -s 52.6.58.86 -p tcp --dport 443 -m comment --comment "liveperson bot-gw2-mgmt" -j ACCEPT');
    expect(r.stdout).not.toMatch(/^-A .*2a03:6400/m);
    expect(r.stdout).toMatch(/IPv6 address\(es\) are not here: use --format ip6tables/);
    expect(r.stdout.trim().endsWith('COMMIT')).toBe(true);
    const r6 = await runCli(['allowlist', 'liveperson', '--format', 'ip6tables']);
    expect(r6.stdout).toContain('-A NETCHECK-OUT -d 2a03:6400::/32 -p tcp -m multiport --dports 80,443');
    const many = await runCli(['allowlist', 'eschat', '--signaling-port', '7400', '--data-ports', '5000,5002,5004,5006,5008,5010,5012,5014,5016,5018,5020,5022,5024,5026,5028,5030', '--format', 'iptables']);
    const dataRules = many.stdout.split('\n').filter((l) => l.includes('-d 3.140.60.106 -p udp'));
    expect(dataRules).toHaveLength(2);
    expect(dataRules[0]).toContain('--dports 5000,5002,5004,5006,5008,5010,5012,5014,5016,5018,5020,5022,5024,5026,5028 ');
    if (IPT) {
      // Syntax check only (--test), in a throwaway namespace so nothing touches this host's tables.
      const ns = `nccatipt${process.pid}`;
      execFileSync(IPT.ip, ['netns', 'add', ns]);
      try {
        execFileSync(IPT.ip, ['netns', 'exec', ns, IPT['iptables-restore'], '--test', '--noflush'], { input: r.stdout });
      } finally {
        execFileSync(IPT.ip, ['netns', 'del', ns]);
      }
    }
  });

  it('csv: one row per address or name, quoted where needed', async () => {
    const r = await runCli(['allowlist', 'liveperson', '--format', 'csv']);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toBe('catalog,line,direction,protocol,ports,type,address,section,description,source,quote,from');
    expect(rows).toContain(
      'liveperson,ipv4-178-249-100-0,outbound,tcp,"80,443",address,178.249.100.0/22,ip-ranges,LivePerson IPv4 range 178.249.100.0/22,000_d782695f0a303d8a.txt,IPv4 Range | CIDR Block: 178.249.100.0 - 178.249.103.255 | 178.249.100.0 /22,',
    );
    expect(rows.filter((x) => x.includes(',name,liveperson.net,'))).toHaveLength(2);
  });

  it('--output writes the file; bad flags are usage errors (exit 2)', async () => {
    const out = join(tmp, 'lp.nft');
    const r = await runCli(['allowlist', 'liveperson', '--output', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toContain('chain netcheck_outbound');
    const bad = await runCli(['allowlist', 'liveperson', '--format', 'pf']);
    expect(bad.code).toBe(2);
    const table = await runCli(['allowlist', 'liveperson', '--nft-table', 'my table']);
    expect(table.code).toBe(2);
    expect(table.stderr).toMatch(/--nft-table 'my table'/);
    const missing = await runCli(['allowlist', 'eschat']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --signaling-port/);
  });
});

describe('netcheck match', () => {
  it('names the documented lines covering each address; exit 1 when one is not covered', async () => {
    const r = await runCli(['match', '52.6.58.86', '178.249.101.7', '17.1.2.3', '203.0.113.9', '--json']);
    expect(r.code).toBe(1);
    const res = JSON.parse(r.stdout) as { address: string; matches: { catalog: string; line: string; range: string; direction: string; source: string }[] }[];
    const lines = (a: string): string[] => res.find((x) => x.address === a)!.matches.map((m) => `${m.catalog}/${m.line} ${m.range}`);
    expect(lines('52.6.58.86')).toEqual(['liveperson/bot-gw2-mgmt 52.6.58.86']);
    expect(lines('178.249.101.7')).toEqual(['liveperson/ipv4-178-249-100-0 178.249.100.0/22']);
    expect(lines('17.1.2.3')).toEqual(['eschat/apns 17.0.0.0/8']);
    expect(lines('203.0.113.9')).toEqual([]);
    expect(res.find((x) => x.address === '52.6.58.86')!.matches[0]).toMatchObject({ direction: 'inbound', source: '000_d782695f0a303d8a.txt' });
  });

  it('--catalog narrows the search; IPv6; --ip-ranges adds the AWS-hosted lines', async () => {
    // Options before the addresses must not swallow them.
    const only = await runCli(['match', '--catalog', 'liveperson', '2a03:6400:1::5', '17.1.2.3', '--json']);
    expect(only.code).toBe(1);
    const res = JSON.parse(only.stdout) as { address: string; matches: { line: string }[] }[];
    expect(res[0]!.matches.map((m) => m.line)).toEqual(['ipv6-2a03-6400']);
    expect(res[1]!.matches).toEqual([]);

    const without = await runCli(['match', '3.81.4.5']);
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/no documented line covers it .*pass --ip-ranges FILE/);
    const aws = await runCli(['match', '3.81.4.5', '13.33.0.1', '54.239.0.9', '--ip-ranges', ipRanges(), '--json']);
    const ar = JSON.parse(aws.stdout) as { address: string; matches: { line: string; range: string; aws?: { service: string; region: string } }[] }[];
    expect(ar[0]!.matches.map((m) => m.line)).toEqual(['web-portal-ranges', 'web-view-api', 'agent-connectors', 'api-integrations', 'custom-integrations']);
    expect(ar[0]!.matches[0]!.aws).toMatchObject({ service: 'EC2', region: 'us-east-1' });
    expect(ar[1]!.matches.map((m) => m.line)).toEqual(['web-portal-ranges']);
    // AMAZON-service prefixes are not among the document's EC2/CloudFront ranges.
    expect(ar[2]!.matches).toEqual([]);
    expect(aws.code).toBe(1);
  });

  it('--param fills list parameters (Commversion office IPs) and narrows AWS to a region', async () => {
    writeFileSync(join(tmp, 'office-m.txt'), '# office\n198.51.100.0/28\n');
    writeFileSync(join(tmp, 'banned-m.txt'), '203.0.113.7\n');
    const r = await runCli(['match', '198.51.100.7', '203.0.113.7', '192.0.2.1', '--catalog', 'commversion', '--param', `office-ips=${join(tmp, 'office-m.txt')}`, '--param', `banned-ips=${join(tmp, 'banned-m.txt')}`, '--json']);
    const res = JSON.parse(r.stdout) as { address: string; matches: { line: string; range: string }[] }[];
    expect(res.map((x) => x.matches.map((m) => `${m.line} ${m.range}`))).toEqual([['office-ips 198.51.100.0/28'], ['banned-ips 203.0.113.7'], []]);
    expect(r.code).toBe(1);
    const eu = await runCli(['match', '3.81.4.5', '52.58.1.1', '--catalog', 'conversation-builder', '--ip-ranges', ipRanges(), '--param', 'aws-region=eu-central-1', '--json']);
    const er = JSON.parse(eu.stdout) as { matches: { line: string }[] }[];
    expect(er[0]!.matches).toEqual([]);
    expect(er[1]!.matches.map((m) => m.line)).toContain('web-view-api');
    const bad = await runCli(['match', '192.0.2.1', '--param', 'nope=1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has a parameter 'nope'/);
  });

  it('text output cites the document line; a non-address is a usage error', async () => {
    const r = await runCli(['match', '34.193.104.2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('liveperson bot-gw1-mgmt');
    expect(r.stdout).toContain('"Region | Gateway Name | IP: N.Virginia | gw1.mgmt.fs.liveperson.com | 34.193.104.2"');
    const bad = await runCli(['match', 'liveperson.net']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'liveperson.net' is not an IP address/);
  });
});
