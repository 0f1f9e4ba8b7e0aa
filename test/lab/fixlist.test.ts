/**
 * The fix list through a real nftables firewall (issue 16). The lab firewall lets one line through,
 * one port of another, and blocks the rest in different ways (a silent drop, a TCP reset for a
 * whole range, an ICMP port-unreachable for UDP). The report's "Ask your network team to allow"
 * must name exactly what was blocked, merged per line, with whole ranges rather than samples;
 * `netcheck allowlist --from-report` must turn it into nftables that `nft -c` accepts; and loading
 * those rules into the firewall must make every line pass.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, type Lab } from '../../src/lab/netns.js';
import { waitReady, type ServeReady } from '../../src/lab/serve.js';
import type { Report } from '../../src/types.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab fix-list tests: ${support.why}`);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const SERVE = `${ROOT}dist/lab/serve.js`;
const CATALOG = `${ROOT}test/fixtures/lab/fixlist-lab.yaml`;
const NODE = process.execPath;
const RANGE = '10.200.3.0/30';

describe.skipIf(!support.ok)('lab: the fix list names exactly what the firewall blocked', () => {
  let lab: Lab;
  let srv: ServeReady;
  let anyip: ServeReady;
  let params: string[];
  let blocking = '';
  const dir = mkdtempSync(join(tmpdir(), 'netcheck-fixlist-'));

  beforeAll(async () => {
    lab = await createLab({ prefix: `ncfx${process.pid % 100000}` });
    // The server namespace answers for a whole range (a local route), routed there by the firewall.
    expect((await lab.exec('server', ['ip', 'route', 'add', 'local', RANGE, 'dev', 'lo'])).code).toBe(0);
    expect((await lab.exec('firewall', ['ip', 'route', 'add', RANGE, 'via', lab.addr.server])).code).toBe(0);
    srv = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, http: [0], tcp: [0, 0], udp: [0] })]));
    anyip = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: '0.0.0.0', tcp: [0] })]));
    const [a1, a2] = srv.tcp;
    params = ['--web-port', String(srv.http[0]), '--app-ports', `${a1},${a2}`, '--range-port', String(anyip.tcp[0]), '--data-port', String(srv.udp[0])];
    // What the network lets through before the ticket: the web port and one of the two app ports.
    // The second app port is dropped silently, the range refused with a reset, UDP with ICMP.
    blocking = `
table inet lab {
  chain netcheck_outbound {
  }
  chain site {
    ip daddr ${lab.addr.server} tcp dport { ${srv.http[0]}, ${a1} } accept
    ip daddr ${lab.addr.server} tcp dport ${a2} drop
    ip daddr ${RANGE} tcp dport ${anyip.tcp[0]} reject with tcp reset
    ip daddr ${lab.addr.server} udp dport ${srv.udp[0]} reject with icmpx type port-unreachable
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "fc" jump netcheck_outbound
    iifname "fc" jump site
  }
}
table ip labnat {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "fs" masquerade
  }
}
`;
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  async function run(): Promise<{ report: Report; code: number | null; file: string }> {
    const file = join(dir, `report-${Date.now()}.json`);
    const r = await lab.exec('client', [NODE, BIN, 'run', '--catalog', CATALOG, ...params, '--no-control', '--quiet', '--timeout', '1s', '--udp-recheck', '0s', '-o', file], { timeoutMs: 60_000 });
    try {
      return { report: JSON.parse(readFileSync(file, 'utf8')) as Report, code: r.code, file };
    } catch {
      throw new Error(`netcheck run wrote no JSON report (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
    }
  }

  it('lists exactly the blocked ports per line, with whole ranges, and the rules open the firewall', async () => {
    await lab.nft(blocking);
    const before = await run();
    const v = Object.fromEntries(before.report.lines.map((l) => [l.id, l.verdict]));
    expect(v).toEqual({ web: 'pass', app: 'partial', range: 'fail', data: 'fail' });
    expect(before.code).toBe(1);

    // Exactly the blocked (line, protocol, ports, destinations): not the app port that passed, and
    // the documented range rather than the addresses sampled from it.
    const rules = before.report.fixList!.rules.map((r) => ({ line: r.line, protocol: r.protocol, ports: r.ports, v4: r.v4, v6: r.v6, names: r.names, quote: r.quote }));
    expect(rules).toEqual([
      { line: 'app', protocol: 'tcp', ports: [srv.tcp[1]], v4: [lab.addr.server], v6: [], names: [], quote: 'Application | 10.200.2.2 | two ports | TCP' },
      { line: 'range', protocol: 'tcp', ports: [anyip.tcp[0]], v4: [RANGE], v6: [], names: [], quote: 'Range | 10.200.3.0/30 | range port | TCP' },
      { line: 'data', protocol: 'udp', ports: [srv.udp[0]], v4: [lab.addr.server], v6: [], names: [], quote: 'Data | 10.200.2.2 | data port | UDP' },
    ]);
    expect(before.report.fixList!.instructions).toEqual([]);

    // The same list as nftables, accepted by `nft -c` in the firewall's namespace.
    const nft = await lab.exec('client', [NODE, BIN, 'allowlist', '--from-report', before.file, '--format', 'nft', '--nft-table', 'lab']);
    expect(nft.code, nft.stderr).toBe(0);
    expect(nft.stdout).toContain(`ip daddr { ${RANGE} } tcp dport { ${anyip.tcp[0]} } accept`);
    expect(nft.stdout).toContain('# range (outbound) vendor range');
    const nftFile = join(dir, 'fix.nft');
    writeFileSync(nftFile, nft.stdout);
    const check = await lab.exec('firewall', ['nft', '-c', '-f', nftFile]);
    expect(check.code, check.stderr).toBe(0);

    // Loaded into the firewall (ahead of the site's own rules), the fix list closes the ticket.
    await lab.nft(`${blocking}\n${nft.stdout}`);
    const after = await run();
    expect(Object.fromEntries(after.report.lines.map((l) => [l.id, l.verdict]))).toEqual({ web: 'pass', app: 'pass', range: 'pass', data: 'pass' });
    expect(after.report.fixList).toBeUndefined();
    expect(after.code).toBe(0);
  }, 120_000);
});
