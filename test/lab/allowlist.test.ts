/**
 * `netcheck allowlist --format nft` loaded into a real nftables firewall (lab namespaces, LAB.md) in
 * front of servers standing in for a catalog's endpoints: the firewall drops everything new except
 * what the allowlist's chains accept. The lab catalog must pass with the rules and fail without
 * them; ports the catalog does not name stay closed; the inbound chain opens only the documented
 * inbound flow; and STUN through the firewall's NAT discovers the firewall's public address.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, type Lab } from '../../src/lab/netns.js';
import { waitReady, type ServeReady } from '../../src/lab/serve.js';
import type { ProbeResult, Report } from '../../src/types.js';
import { needTools } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab allowlist tests: ${support.why}`);
const TURNSERVER = support.ok ? needTools('the STUN line of the lab allowlist tests', ['turnserver'])?.turnserver : undefined;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const SERVE = `${ROOT}dist/lab/serve.js`;
const CATALOG = `${ROOT}test/fixtures/lab/allowlist-lab.yaml`;
const NODE = process.execPath;
const STUN_PORT = 3478;

/**
 * The lab firewall: forward policy drop, replies of accepted flows allowed, and new flows only
 * through the allowlist's chains (declared first, by the allowlist text or empty).
 */
function firewall(allowlist: string): string {
  return `${allowlist}
table inet lab {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "fc" jump netcheck_outbound
    iifname "fs" jump netcheck_inbound
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ct state established,related accept
  }
}
table ip labnat {
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "fs" masquerade
  }
}
`;
}
const NO_RULES = 'table inet lab {\n  chain netcheck_outbound {\n  }\n  chain netcheck_inbound {\n  }\n}';

describe.skipIf(!support.ok)('lab: allowlist rules in a real nftables firewall', () => {
  let lab: Lab;
  let srv: ServeReady;
  let cb: ServeReady;
  let params: string[];
  let rules = '';

  beforeAll(async () => {
    lab = await createLab({ prefix: `ncal${process.pid % 100000}` });
    srv = await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, http: [0], tcp: [0, 0], udp: [0] })]));
    cb = await waitReady(lab.spawn('client', [NODE, SERVE, JSON.stringify({ host: lab.addr.client, tcp: [0, 0] })]));
    if (TURNSERVER) {
      lab.spawn('server', [TURNSERVER, '-n', '--stun-only', '--listening-ip', lab.addr.server, '--listening-port', String(STUN_PORT), '--no-tls', '--no-dtls', '--no-cli', '--log-file', 'stdout']);
      // Wait until coturn answers (asked from inside the server namespace, so no firewall is involved).
      await waitFor(
        'coturn answering in the lab',
        async () => (await lab.exec('server', [NODE, BIN, 'probe', 'stun', `${lab.addr.server}:${STUN_PORT}`, '--json', '--timeout', '500ms'])).stdout.includes('"STUN_MAPPED"') || undefined,
        20_000,
      );
    }
    params = ['--web-port', String(srv.http[0]), '--app-port', String(srv.tcp[0]), '--data-port', String(srv.udp[0]), '--stun-port', String(STUN_PORT), '--callback-port', String(cb.tcp[0])];
    const r = await lab.exec('client', [NODE, BIN, 'allowlist', CATALOG, ...params, '--format', 'nft', '--nft-table', 'lab']);
    expect(r.code).toBe(0);
    rules = r.stdout;
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  /**
   * Run the lab catalog from the client namespace. A run expected to pass gets a generous deadline
   * (answers end each probe long before it, so it costs nothing): on a loaded machine a 1 s
   * deadline once left a UDP or STUN answer late and a passing line inconclusive.
   */
  async function run(timeout: string): Promise<{ report: Report; code: number | null }> {
    const args = ['run', '--catalog', CATALOG, ...params, '--no-control', '--json', '--quiet', '--timeout', timeout, ...(TURNSERVER ? [] : ['--only', 'http', 'tcp', 'udp'])];
    const r = await lab.exec('client', [NODE, BIN, ...args], { timeoutMs: 60_000 });
    try {
      return { report: JSON.parse(r.stdout) as Report, code: r.code };
    } catch {
      throw new Error(`netcheck run did not print JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
    }
  }

  async function probe(ns: 'client' | 'server', kind: string, target: string): Promise<ProbeResult> {
    const r = await lab.exec(ns, [NODE, BIN, 'probe', kind, target, '--json', '--no-control', '--timeout', '1s']);
    return (JSON.parse(r.stdout) as Report).probes[0]!;
  }

  const verdicts = (rep: Report): Record<string, string> => Object.fromEntries(rep.lines.map((l) => [l.id, l.verdict]));

  it('the allowlist loads into nftables and the lab catalog passes through it', async () => {
    await lab.nft(firewall(rules));
    const { report, code } = await run('3s');
    const v = verdicts(report);
    expect(v.web).toBe('pass');
    expect(v['app-range']).toBe('pass');
    expect(v.data).toBe('pass');
    expect(report.probes.find((p) => p.line === 'data')!.reason).toBe('UDP_REPLY');
    if (TURNSERVER) {
      expect(v.egress).toBe('pass');
      // Through the firewall's masquerade the STUN server sees the firewall, not the client.
      const stun = report.probes.find((p) => p.line === 'egress')!;
      expect(stun.data!.mappedAddress).toBe(lab.addr.fwServer);
      expect(stun.data!.mappedAddress).not.toBe(lab.addr.client);
    }
    // The inbound line is listed, not probed from inside.
    expect(report.probes.find((p) => p.line === 'callbacks')).toMatchObject({ status: 'skipped' });
    expect(code).toBe(0);
  });

  it('without the rules the same catalog fails', async () => {
    await lab.nft(firewall(NO_RULES));
    const { report, code } = await run('1s');
    const v = verdicts(report);
    expect(v.web).toBe('fail');
    expect(report.probes.find((p) => p.line === 'web')!.status).toBe('filtered');
    // Silence from a sampled range and from UDP cannot prove a block: inconclusive, never pass.
    expect(v['app-range']).toBe('inconclusive');
    expect(v.data).toBe('inconclusive');
    if (TURNSERVER) expect(report.probes.find((p) => p.line === 'egress')).toMatchObject({ status: 'open|filtered', reason: 'STUN_NO_REPLY' });
    expect(code).toBe(1);
  });

  it('the rules open only what the document names, in the direction it names', async () => {
    await lab.nft(firewall(rules));
    // A server port the catalog does not list stays closed.
    expect((await probe('client', 'tcp', `${lab.addr.server}:${srv.tcp[1]}`)).status).toBe('filtered');
    // Inbound: the vendor's range may reach the callback port, and nothing else of the client.
    expect((await probe('server', 'tcp', `${lab.addr.client}:${cb.tcp[0]}`)).status).toBe('ok');
    expect((await probe('server', 'tcp', `${lab.addr.client}:${cb.tcp[1]}`)).status).toBe('filtered');
    await lab.nft(firewall(NO_RULES));
    expect((await probe('server', 'tcp', `${lab.addr.client}:${cb.tcp[0]}`)).status).toBe('filtered');
  });
});
