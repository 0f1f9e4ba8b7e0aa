/**
 * Prometheus drives the probing (issue 16): `netcheck daemon --every 0s` serves `/probe`, and a
 * real Prometheus (Debian's package) scrapes it with the scrape configuration and alerting rule
 * of docs/daemon.md (read from the file, so the documentation is what is tested): relabelled
 * `LINE@DAEMON` targets, the scrape timeout honoured, an alert firing for exactly the failing
 * required line. The endpoint's answers are also checked directly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ROOT } from '../helpers/cli.js';
import { samples, startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { prometheusTools, startPrometheus, until, type RunningPrometheus } from '../helpers/prometheus.js';
import { stopChild } from '../helpers/wait.js';
import { startLabServers, type LabServers } from '../helpers/report-lab.js';
import { udpServer, type Closeable } from '../helpers/servers.js';

const tools = prometheusTools('/probe tests with a real Prometheus');

/** The ```yaml block of docs/daemon.md that contains `marker`. */
function docsYaml(marker: string): string {
  const md = readFileSync(join(ROOT, 'docs/daemon.md'), 'utf8');
  const block = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes(marker));
  if (!block) throw new Error(`docs/daemon.md has no yaml block with ${marker}`);
  return block;
}

describe('/probe answered directly', () => {
  let lab: LabServers;
  let daemon: TestDaemon;
  let base = '';
  beforeAll(async () => {
    lab = await startLabServers();
    daemon = await startDaemon(['--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '5s', '--every', '0s']);
    base = `http://127.0.0.1:${daemon.port}`;
  }, 30_000);
  afterAll(async () => {
    await stopChild(daemon?.child);
    await lab?.close();
  });

  const probe = async (query: string, scrapeTimeout?: string): Promise<{ status: number; text: string; ms: number }> => {
    const t0 = performance.now();
    const res = await fetch(`${base}/probe?${query}`, { headers: scrapeTimeout ? { 'X-Prometheus-Scrape-Timeout-Seconds': scrapeTimeout } : {} });
    return { status: res.status, text: await res.text(), ms: performance.now() - t0 };
  };

  it('runs the line now: probe_success and the verdict, per-probe series, blackbox’s HTTP metrics', async () => {
    const ok = await probe('catalog=lab-report&line=portal', '4');
    expect(ok.status).toBe(200);
    const m = samples(ok.text);
    expect(m.get('probe_success')).toBe(1);
    expect(m.get('probe_netcheck_line_verdict{verdict="pass"}')).toBe(1);
    expect(m.get(`probe_netcheck_probe_success{kind="tcp",target="127.0.0.1:${lab.ports.web}"}`)).toBe(1);
    expect(m.get('probe_http_status_code')).toBe(200);
    expect(m.get('probe_duration_seconds')!).toBeGreaterThan(0);
    const bad = samples((await probe('catalog=lab-report&line=signaling', '4')).text);
    expect(bad.get('probe_success')).toBe(0);
    expect(bad.get('probe_netcheck_line_verdict{verdict="fail"}')).toBe(1);
    expect(bad.get('probe_netcheck_probes{status="refused"}')).toBe(1);
    const opt = samples((await probe('catalog=lab-report&line=signaling-backup')).text);
    expect(opt.get('probe_netcheck_line_required')).toBe(0);
  });

  it('answers within the scrape timeout, the probes’ deadline taken from the header', async () => {
    // The silent UDP port makes its probe wait its whole deadline: 5 s by --timeout, but the
    // scrape allows 1.5 s, so the deadline is 90 % of (1.5 s − 0.5 s).
    const r = await probe('catalog=lab-report&line=data-silent', '1.5');
    expect(r.status).toBe(200);
    const m = samples(r.text);
    expect(m.get('probe_netcheck_deadline_seconds')).toBe(0.9);
    expect(m.get('probe_netcheck_line_verdict{verdict="inconclusive"}')).toBe(1);
    expect(m.get('probe_netcheck_cut')).toBe(0);
    expect(r.ms).toBeLessThan(1500);
  });

  it('aims a line’s checks at one target, or runs an ad-hoc check', async () => {
    const aimed = samples((await probe(`catalog=lab-report&line=signaling&target=127.0.0.1:${lab.ports.web}`, '4')).text);
    expect(aimed.get('probe_success')).toBe(1);
    expect(aimed.get(`probe_netcheck_probe_success{kind="tcp",target="127.0.0.1:${lab.ports.web}"}`)).toBe(1);
    const adhoc = samples((await probe(`kind=udp&target=127.0.0.1:${lab.ports.udp}`, '4')).text);
    expect(adhoc.get('probe_success')).toBe(1);
    expect(adhoc.get('probe_ip_protocol')).toBe(4);
  });

  it('a bad query is a 400 that says what exists', async () => {
    const cases: [string, RegExp][] = [
      ['catalog=lab-report&line=nope', /has no line 'nope'; lines: portal, signaling/],
      ['catalog=eschat&line=signaling', /no catalog 'eschat' in this daemon; catalogs: lab-report/],
      ['catalog=lab-report', /needs line=ID/],
      ['kind=tcp&target=10.0.0.0/8', /one address or name/],
      ['kind=ws-hold&target=127.0.0.1:1', /cannot be probed ad hoc/],
      ['', /needs catalog=NAME&line=ID/],
    ];
    for (const [q, re] of cases) {
      const r = await probe(q);
      expect(r.status, q).toBe(400);
      expect(r.text, q).toMatch(re);
    }
  });
});

describe('/probe when the scrape timeout cuts a line short', () => {
  const servers: Closeable[] = [];
  let daemon: TestDaemon;
  beforeAll(async () => {
    // Two UDP services that answer after 600 ms. One probe at a time per host (--per-host 1): the
    // second starts when the first has its answer, and the scrape's deadline cuts it short.
    const late = (msg: Buffer, reply: (b: Buffer) => void): void =>
      void setTimeout(() => {
        try {
          reply(msg);
        } catch {
          // closed by the time the answer was due (end of the test)
        }
      }, 600);
    for (let i = 0; i < 2; i++) servers.push(await udpServer(late));
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-probe-cut-'));
    const catalog = join(dir, 'slow.yaml');
    writeFileSync(
      catalog,
      `schema: netcheck/catalog/v1\nid: slow\ntitle: t\nsource: t\nsections:\n  - id: s\n    name: S\n    lines:\n      - id: slow\n        description: two slow UDP services\n        targets: [127.0.0.1]\n        ports: [${servers.map((x) => x.port).join(', ')}]\n        checks: [{ kind: udp }]\n`,
    );
    daemon = await startDaemon(['--catalog', catalog, '--no-control', '--timeout', '5s', '--per-host', '1', '--udp-recheck', '0s', '--every', '0s']);
  }, 30_000);
  afterAll(async () => {
    await stopChild(daemon?.child);
    await Promise.all(servers.map((x) => x.close()));
  });

  it('is inconclusive, never pass: the probe it cut proved nothing', async () => {
    const res = await fetch(`http://127.0.0.1:${daemon.port}/probe?catalog=slow&line=slow`, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': '1.5' } });
    const m = samples(await res.text());
    expect(m.get('probe_netcheck_probes{status="ok"}')).toBe(1);
    expect(m.get('probe_netcheck_cut')).toBe(1);
    expect(m.get('probe_netcheck_line_verdict{verdict="inconclusive"}')).toBe(1);
    expect(m.get('probe_success')).toBe(0);
  });
});

describe.skipIf(!tools)('a real Prometheus drives /probe with the documented relabelling and alert rule', () => {
  let lab: LabServers;
  let daemon: TestDaemon;
  let prom: RunningPrometheus;

  beforeAll(async () => {
    lab = await startLabServers();
    daemon = await startDaemon(['--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '5s', '--every', '0s']);
    const site = `127.0.0.1:${daemon.port}`;
    // The documented configuration, aimed at this daemon and sped up for a test.
    const job = (parse(docsYaml('job_name: netcheck-probe')) as { scrape_configs: Record<string, unknown>[] }).scrape_configs[0]!;
    job.params = { catalog: ['lab-report'] };
    job.scrape_interval = '1s';
    job.scrape_timeout = '1s';
    job.static_configs = [{ targets: ['portal', 'signaling', 'signaling-backup', 'data-silent'].map((l) => `${l}@${site}`) }];
    const rules = parse(docsYaml('alert: VendorLineBlocked')) as { groups: { rules: Record<string, unknown>[] }[] };
    for (const r of rules.groups[0]!.rules) r.for = '0s';
    prom = await startPrometheus(tools!.prometheus, stringify({ global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: ['rules.yml'], scrape_configs: [job] }), { 'rules.yml': stringify(rules) });
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await stopChild(daemon?.child);
    await lab?.close();
  });

  it('promtool accepts the documented rules as they stand', () => {
    const f = join(tmpdir(), `netcheck-rules-${process.pid}.yml`);
    writeFileSync(f, docsYaml('alert: VendorLineBlocked'));
    const r = spawnSync(tools!.promtool, ['check', 'rules', f], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const c = join(tmpdir(), `netcheck-scrape-${process.pid}.yml`);
    writeFileSync(c, docsYaml('job_name: netcheck-probe'));
    const cfg = spawnSync(tools!.promtool, ['check', 'config', c], { encoding: 'utf8' });
    expect(cfg.status, cfg.stdout + cfg.stderr).toBe(0);
  });

  it('each LINE@DAEMON target is scraped as its line, with the verdict; the alert fires for the failing required line only', async () => {
    const lines = await until('four targets up with probe_success', async () => {
      const r = await prom.query('probe_success{job="netcheck-probe"}');
      return r.length === 4 ? r : undefined;
    }, 40_000).catch((e: Error) => {
      throw new Error(`${e.message}; prometheus said: ${prom.log().slice(-2000)}`);
    });
    const success = Object.fromEntries(lines.map((s) => [s.metric.line, s.value[1]]));
    expect(success).toEqual({ portal: '1', signaling: '0', 'signaling-backup': '0', 'data-silent': '0' });
    for (const s of lines) expect(s.metric.instance).toBe(`127.0.0.1:${daemon.port}`);
    // The scrape timeout (1 s) reached the daemon: each probe had 90 % of 0.5 s.
    const deadline = await prom.query('probe_netcheck_deadline_seconds{line="data-silent"}');
    expect(deadline[0]!.value[1]).toBe('0.45');
    expect((await prom.query('up{job="netcheck-probe"} == 1')).length).toBe(4);

    // signaling fails and is required; signaling-backup fails but is optional; data-silent is inconclusive.
    const firing = await until('VendorLineBlocked firing', async () => {
      const r = await prom.query('ALERTS{alertname="VendorLineBlocked", alertstate="firing"}');
      return r.length ? r : undefined;
    }, 30_000);
    expect(firing.map((a) => [a.metric.line, a.metric.verdict, a.metric.instance])).toEqual([['signaling', 'fail', `127.0.0.1:${daemon.port}`]]);
  }, 90_000);
});
