/**
 * The real CLI, run inside the lab's client namespace, against servers in the server namespace,
 * through a real nftables firewall: each firewall behaviour must come out as its own status.
 */
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset, type Lab } from '../../src/lab/netns.js';
import { waitReady, type ServeReady } from '../../src/lab/serve.js';
import type { ProbeResult, Report } from '../../src/types.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab firewall tests: ${support.why}`);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = `${ROOT}bin/netcheck.js`;
const SERVE = `${ROOT}dist/lab/serve.js`;
const CATALOG = `${ROOT}test/fixtures/lab/lab-small.yaml`;
/** Three destinations: "no outbound connectivity" needs silence from several (issue 10). */
const CATALOG_THREE = `${ROOT}test/fixtures/lab/lab-three.yaml`;
const NODE = process.execPath;

/** Run the CLI in the client namespace and parse its JSON report. */
async function cli(lab: Lab, args: string[], timeoutMs = 60_000): Promise<{ report: Report; code: number | null; wallMs: number; stderr: string }> {
  const t0 = performance.now();
  const r = await lab.exec('client', [NODE, BIN, ...args], { timeoutMs });
  const wallMs = performance.now() - t0;
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch {
    throw new Error(`netcheck ${args.join(' ')} did not print JSON (exit ${r.code}): ${r.stderr.slice(0, 2000)}`);
  }
  return { report, code: r.code, wallMs, stderr: r.stderr };
}

async function probe(lab: Lab, kind: string, target: string, timeout = '1s'): Promise<ProbeResult> {
  const { report } = await cli(lab, ['probe', kind, target, '--json', '--no-control', '--timeout', timeout]);
  expect(report.probes).toHaveLength(1);
  return report.probes[0]!;
}

describe.skipIf(!support.ok)('lab: firewall behaviours through the real CLI', () => {
  let lab: Lab;
  let srv: ServeReady;

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    const child = lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, tcp: [0], udp: [0] })]);
    srv = await waitReady(child);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const S = (): string => lab.addr.server;

  it('open TCP → ok', async () => {
    await lab.nft(statefulRuleset());
    const p = await probe(lab, 'tcp', `${S()}:${srv.tcp[0]}`);
    expect(p.status).toBe('ok');
    expect(p.reason).toBe('CONNECTED');
  });

  it('UDP echo → ok', async () => {
    await lab.nft(statefulRuleset());
    const p = await probe(lab, 'udp', `${S()}:${srv.udp[0]}`);
    expect(p.status).toBe('ok');
    expect(p.reason).toBe('UDP_REPLY');
  });

  it('tcp drop → filtered', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${srv.tcp[0]} drop`));
    const p = await probe(lab, 'tcp', `${S()}:${srv.tcp[0]}`);
    expect(p.status).toBe('filtered');
    expect(p.reason).toBe('SYN_TIMEOUT');
  });

  it('reject with tcp reset → refused', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${srv.tcp[0]} reject with tcp reset`));
    const p = await probe(lab, 'tcp', `${S()}:${srv.tcp[0]}`);
    expect(p.status).toBe('refused');
    expect(p.reason).toBe('ECONNREFUSED');
    expect(p.durationMs).toBeLessThan(900);
  });

  it('UDP reject with icmpx port-unreachable → refused', async () => {
    await lab.nft(statefulRuleset(`udp dport ${srv.udp[0]} reject with icmpx type port-unreachable`));
    const p = await probe(lab, 'udp', `${S()}:${srv.udp[0]}`);
    expect(p.status).toBe('refused');
    expect(p.reason).toBe('ECONNREFUSED');
  });

  it('UDP drop → open|filtered (never ok)', async () => {
    await lab.nft(statefulRuleset(`udp dport ${srv.udp[0]} drop`));
    const p = await probe(lab, 'udp', `${S()}:${srv.udp[0]}`);
    expect(p.status).toBe('open|filtered');
    expect(p.reason).toBe('UDP_SILENCE');
  });

  it('reject with icmpx admin-prohibited → unreachable (TCP and UDP)', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${srv.tcp[0]} reject with icmpx type admin-prohibited\nudp dport ${srv.udp[0]} reject with icmpx type admin-prohibited`));
    const t = await probe(lab, 'tcp', `${S()}:${srv.tcp[0]}`);
    expect(t.status).toBe('unreachable');
    expect(t.reason).toBe('EHOSTUNREACH');
    const u = await probe(lab, 'udp', `${S()}:${srv.udp[0]}`);
    expect(u.status).toBe('unreachable');
    expect(u.reason).toBe('EHOSTUNREACH');
  });

  it('reject with icmpx host-unreachable → unreachable', async () => {
    await lab.nft(statefulRuleset(`tcp dport ${srv.tcp[0]} reject with icmpx type host-unreachable`));
    const t = await probe(lab, 'tcp', `${S()}:${srv.tcp[0]}`);
    expect(t.status).toBe('unreachable');
  });
});

/** The lab catalog's ports, served for real in the server namespace. */
const CATALOG_SERVE = { tcp: [80, 443, 7400], udp: [4201, 4202] };

describe.skipIf(!support.ok)('lab: no outbound connectivity is diagnosed first, within about one timeout', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, ...CATALOG_SERVE })]));
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const TIMEOUT_MS = 2000;

  it('client namespace with no route out', async () => {
    const del = await lab.exec('client', ['ip', 'route', 'del', 'default']);
    expect(del.code).toBe(0);
    try {
      const { report, wallMs, code } = await cli(lab, ['run', '--catalog', CATALOG_THREE, '--no-control', '--timeout', '2s', '--json']);
      expect(code).toBe(1);
      expect(report.diagnoses[0]?.code).toBe('NO_OUTBOUND_CONNECTIVITY');
      expect(report.diagnoses[0]?.message).toContain('no route to any of the 3 destinations');
      expect(report.probes.every((p) => p.status === 'unreachable')).toBe(true);
      // Process start-up included: generous margin on a shared 2-core machine.
      expect(wallMs).toBeLessThan(3 * TIMEOUT_MS); // one deadline, not one per probe; process start-up included
    } finally {
      await lab.exec('client', ['ip', 'route', 'add', 'default', 'via', lab.addr.fwClient]);
    }
  });

  it('a firewall that silently drops everything', async () => {
    await lab.nft(statefulRuleset('drop'));
    // --no-trace: this bound is the engine's; the one trace of where everything stops (about a
    // second more) is tested in path.test.ts.
    const { report, wallMs, code } = await cli(lab, ['run', '--catalog', CATALOG_THREE, '--no-control', '--no-trace', '--timeout', '2s', '--json']);
    expect(report.diagnoses[0]?.code).toBe('NO_OUTBOUND_CONNECTIVITY');
    expect(new Set(report.probes.map((p) => p.status))).toEqual(new Set(['filtered', 'open|filtered']));
    expect(code).toBe(1);
    expect(wallMs).toBeLessThan(3 * TIMEOUT_MS); // one deadline, not one per probe; process start-up included
    // The finding comes before the first line in the text report.
    const text = await lab.exec('client', [NODE, BIN, 'run', '--catalog', CATALOG_THREE, '--no-control', '--no-trace', '--timeout', '2s'], { timeoutMs: 60_000 });
    const rows = text.stdout.split('\n');
    const finding = rows.findIndex((l) => l.includes('no outbound connectivity'));
    expect(finding).toBeGreaterThan(-1);
    expect(finding).toBeLessThan(rows.findIndex((l) => l.includes('FAIL')));
  });

  it('one destination dropping everything is that destination, not "no outbound connectivity"', async () => {
    await lab.nft(statefulRuleset('drop'));
    const { report } = await cli(lab, ['run', '--catalog', CATALOG, '--no-control', '--timeout', '2s', '--json']);
    expect(new Set(report.probes.map((p) => p.status))).toEqual(new Set(['filtered', 'open|filtered']));
    expect(report.diagnoses).toEqual([]);
  });

  it('the same catalog passes when the firewall allows it (the test can fail)', async () => {
    await lab.nft(statefulRuleset());
    const { report, code } = await cli(lab, ['run', '--catalog', CATALOG, '--no-control', '--timeout', '2s', '--json']);
    expect(report.diagnoses).toEqual([]);
    expect(report.lines.map((l) => l.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(code).toBe(0);
  });
});

describe.skipIf(!support.ok)('lab: interception control', () => {
  let lab: Lab;
  let interceptor: ChildProcess;
  const INTERCEPT_PORT = 8443;
  const CONTROL = '10.200.2.99:443'; // on the lab's server subnet, but no host has it

  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    await waitReady(lab.spawn('server', [NODE, SERVE, JSON.stringify({ host: lab.addr.server, ...CATALOG_SERVE })]));
    // The "transparent proxy": a listener in the firewall namespace itself.
    interceptor = lab.spawn('firewall', [NODE, SERVE, JSON.stringify({ host: '0.0.0.0', tcp: [INTERCEPT_PORT] })]);
    await waitReady(interceptor);
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('without interception the control does not connect and the lines pass', async () => {
    await lab.nft(statefulRuleset());
    const { report } = await cli(lab, ['run', '--catalog', CATALOG, '--control', CONTROL, '--timeout', '2s', '--json']);
    expect(report.control?.status).not.toBe('ok');
    expect(report.diagnoses.map((d) => d.code)).not.toContain('TCP_INTERCEPTION');
    expect(report.lines.map((l) => l.verdict)).toEqual(['pass', 'pass', 'pass']);
  });

  it('an nft redirect of every TCP connection makes the control connect: TCP_INTERCEPTION, TCP lines inconclusive', async () => {
    await lab.nft(
      statefulRuleset('', {
        prerouting: `iifname "fc" tcp dport 1-65535 redirect to :${INTERCEPT_PORT}`,
        input: `iifname "fc" tcp dport ${INTERCEPT_PORT} accept`,
      }),
    );
    const { report } = await cli(lab, ['run', '--catalog', CATALOG, '--control', CONTROL, '--timeout', '2s', '--json']);
    expect(report.control?.status).toBe('ok');
    expect(report.diagnoses[0]?.code).toBe('TCP_INTERCEPTION');
    const verdict = Object.fromEntries(report.lines.map((l) => [l.id, l.verdict]));
    expect(verdict.web).toBe('inconclusive');
    expect(verdict.signaling).toBe('inconclusive');
    // UDP is not redirected: its line is judged on its own evidence.
    expect(verdict.data).toBe('pass');
  });
});

describe.skipIf(!support.ok)('lab: ICMP rate limits on a UDP sweep of 64 closed ports', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset() });
    // Kernel default is 1000 ms per ICMP after a burst of 6. A shorter (but non-zero) limit keeps the
    // same failure mode (most refusals lost in a sweep) while the paced recheck finishes in seconds.
    await lab.sysctl('server', 'net.ipv4.icmp_ratelimit', '250');
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  const sweep = async (recheck: string): Promise<Report> => {
    const { report } = await cli(lab, ['probe', 'udp', `${lab.addr.server}:4201-4264`, '--json', '--no-control', '--timeout', '1s', '--udp-recheck', recheck], 120_000);
    expect(report.probes).toHaveLength(64);
    return report;
  };

  it('without the recheck, rate-limited ICMP turns refusals into silence', async () => {
    const report = await sweep('0s');
    const silent = report.probes.filter((p) => p.status === 'open|filtered').length;
    const refused = report.probes.filter((p) => p.status === 'refused').length;
    expect(refused).toBeGreaterThan(0);
    expect(silent).toBeGreaterThan(10);
  }, 120_000);

  it('with the paced recheck, all 64 closed ports are refused', async () => {
    const report = await sweep('300ms');
    const statuses = report.probes.map((p) => p.status);
    expect(statuses.filter((s) => s === 'refused')).toHaveLength(64);
  }, 120_000);
});

describe.skipIf(!support.ok)('lab: a sweep through a firewall dropping half the ports adapts its deadline to the round trip', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ ruleset: statefulRuleset('tcp dport 20000-20127 tcp dport & 1 == 1 drop') });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it('odd ports filtered with an adaptive deadline well under --timeout, even ports refused', async () => {
    const { report } = await cli(lab, ['probe', 'tcp', `${lab.addr.server}:20000-20127`, '--json', '--no-control', '--timeout', '5s']);
    expect(report.probes).toHaveLength(128);
    for (const p of report.probes) {
      if (p.port! % 2 === 1) {
        expect(p.status).toBe('filtered');
        expect(p.reason).toBe('SYN_TIMEOUT');
        const a = p.data?.adaptiveDeadline as { deadlinesMs: number[]; configuredTimeoutMs: number } | undefined;
        expect(a?.configuredTimeoutMs).toBe(5000);
        expect(a!.deadlinesMs).toHaveLength(2); // one re-send before judging
        for (const d of a!.deadlinesMs) expect(d).toBeLessThan(5000);
      } else {
        expect(p.status).toBe('refused');
      }
    }
    // With the fixed 5 s deadline this would take ≥ 5 s (64 silent ports, 64 per destination in flight).
    expect(report.durationMs).toBeLessThan(4000);
  });
});
