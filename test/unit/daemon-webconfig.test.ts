/**
 * A daemon safe to expose (issue 16): `--web.config.file` in Prometheus exporter-toolkit format
 * gives every endpoint TLS and HTTP basic auth (bcrypt hashes), checked strictly; a real Prometheus
 * scrapes /metrics and /probe over TLS with basic auth, and fails with a wrong password or without
 * TLS; a daemon listening beyond loopback with neither says so loudly (started in a network
 * namespace of its own, so 0.0.0.0 is only that namespace's loopback).
 */
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:https';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposureWarning } from '../../src/cli/commands/daemon.js';
import { loadWebConfig } from '../../src/daemon/webconfig.js';
import { BIN, cliEnv, ROOT, runCli } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';
import { prometheusTools, startPrometheus, until, type RunningPrometheus } from '../helpers/prometheus.js';
import { stopChild } from '../helpers/wait.js';
import { startDaemon, type TestDaemon } from '../helpers/daemon.js';
import { LAB_CATALOG, startLabServers, type LabServers } from '../helpers/report-lab.js';
import { Pki, type Issued } from '../helpers/pki.js';

const PASSWORD = 'correct horse battery staple';

describe('web config file: strict, every problem names file, line and key', () => {
  const pki = new Pki('nc-webcfg-');
  let server: Issued;
  beforeAll(() => {
    const ca = pki.ca('ca', '/CN=netcheck test CA');
    server = pki.issue('server', ca, '/CN=localhost', { sans: 'IP:127.0.0.1,DNS:localhost' });
  });
  afterAll(() => pki.cleanup());

  const load = (name: string, text: string): unknown => {
    const f = pki.write(name, text);
    try {
      return loadWebConfig(f);
    } catch (err) {
      return (err as Error).message.replace(pki.dir + '/', '');
    }
  };

  it('reads TLS files relative to itself and users with bcrypt hashes ($2y$ as htpasswd writes them)', () => {
    const hash = bcrypt.hashSync(PASSWORD, 4).replace(/^\$2b\$/, '$2y$');
    const c = loadWebConfig(pki.write('ok.yml', `tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  min_version: TLS12\nbasic_auth_users:\n  prometheus: ${hash}\n`));
    expect(c.tls!.cert.toString()).toBe(server.pem);
    expect(c.tls!.minVersion).toBe('TLSv1.2');
    expect(c.users.get('prometheus')).toBe(hash);
    expect(loadWebConfig(pki.write('empty.yml', ''))).toEqual({ file: join(pki.dir, 'empty.yml'), users: new Map() });
  });

  it('refuses what it would otherwise ignore or misread', () => {
    expect(load('a.yml', 'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\nbasic_auth:\n  x: y\n')).toBe(
      'a.yml:4: basic_auth: unknown key (allowed here: tls_server_config, basic_auth_users)',
    );
    expect(load('b.yml', 'http_server_config:\n  http2: false\n')).toBe(
      'b.yml:1: http_server_config: this exporter-toolkit setting is not supported by netcheck (supported here: tls_server_config, basic_auth_users)',
    );
    expect(load('c.yml', 'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n')).toMatch(/^c\.yml:4: tls_server_config\.cipher_suites: this exporter-toolkit setting is not supported by netcheck/);
    expect(load('d.yml', 'basic_auth_users:\n  prometheus: secret\n')).toBe('d.yml:2: basic_auth_users.prometheus: not a bcrypt hash; make one with: htpasswd -nBC 10 USER (the part after the colon)');
    expect(load('e.yml', 'tls_server_config:\n  cert_file: server.pem\n')).toBe('e.yml:1: tls_server_config.key_file: missing (TLS needs both cert_file and key_file)');
    expect(load('f.yml', 'tls_server_config:\n  cert_file: nope.pem\n  key_file: server.key\n')).toMatch(/^f\.yml:2: tls_server_config\.cert_file: cannot read .*nope\.pem \(ENOENT\)$/);
    expect(load('g.yml', 'tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n')).toBe(
      'g.yml:4: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs client_ca_file',
    );
  });

  it('the CLI: one message, exit 2, before anything listens', async () => {
    const f = pki.write('bad.yml', 'basic_auth_users:\n  prometheus: hunter2\n');
    const r = await runCli(['daemon', '--catalog', 'eschat', '--param', 'signaling-port=7400', '--listen', '127.0.0.1:0', '--web.config.file', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`netcheck: ${f}:2: basic_auth_users.prometheus: not a bcrypt hash; make one with: htpasswd -nBC 10 USER (the part after the colon)\n`);
  });
});

describe('loud when exposed without protection', () => {
  it('warns for a non-loopback address with neither TLS nor users, and when only one is set', () => {
    const tls = { cert: Buffer.from(''), key: Buffer.from(''), clientAuth: 'NoClientCert' as const };
    expect(exposureWarning('127.0.0.1', '127.0.0.1:9469', undefined)).toBeUndefined();
    expect(exposureWarning('::1', '[::1]:9469', undefined)).toBeUndefined();
    expect(exposureWarning('0.0.0.0', '0.0.0.0:9469', undefined)).toMatch(/^netcheck daemon: WARNING: 0\.0\.0\.0:9469 is reachable from other hosts with neither TLS nor authentication/);
    expect(exposureWarning('0.0.0.0', '0.0.0.0:9469', { file: 'w.yml', tls, users: new Map() })).toMatch(/serves TLS but asks no one for a password/);
    expect(exposureWarning('10.0.0.5', '10.0.0.5:9469', { file: 'w.yml', users: new Map([['p', 'h']]) })).toMatch(/asks for a password over plain HTTP/);
    expect(exposureWarning('0.0.0.0', '0.0.0.0:9469', { file: 'w.yml', tls, users: new Map([['p', 'h']]) })).toBeUndefined();
  });

  const tools0 = needTools('the 0.0.0.0 daemon start test (a network namespace of its own)', ['unshare']);
  const canUnshare = !!tools0 && (spawnSync(tools0.unshare, ['-n', 'true']).status === 0 || spawnSync(tools0.unshare, ['-rn', 'true']).status === 0);
  if (tools0 && !canUnshare) console.warn('SKIPPING the 0.0.0.0 daemon start test: cannot create a network namespace (unshare -n / -rn)');
  it.skipIf(!canUnshare)('a daemon started on 0.0.0.0 without a web config prints the WARNING', async () => {
    const flag = spawnSync(tools0!.unshare, ['-n', 'true']).status === 0 ? '-n' : '-rn';
    // A namespace of its own: 0.0.0.0 there is only its own (down) interfaces, nothing outside.
    // A loopback test catalog, never a vendor's; --every 0s: no scheduled run at all.
    const params = ['web-port', 'closed-port', 'udp-port', 'silent-port'].flatMap((p) => ['--param', `${p}=9`]);
    const child = spawn(tools0!.unshare, [flag, process.execPath, BIN, 'daemon', '--catalog', LAB_CATALOG, ...params, '--every', '0s', '--listen', '0.0.0.0:0'], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    try {
      await until('the warning', async () => err.includes('give --web.config.file'), 20_000);
    } finally {
      await stopChild(child);
    }
    expect(err).toMatch(/listening on http:\/\/0\.0\.0\.0:\d+/);
    expect(err.match(/WARNING/g)).toHaveLength(3);
  });
});

const tools = prometheusTools('the daemon scraped over TLS with basic auth by a real Prometheus');
describe.skipIf(!tools)('a real Prometheus scrapes the daemon over TLS with basic auth', () => {
  const pki = new Pki('nc-webtls-');
  let ca: Issued;
  let lab: LabServers;
  let daemon: TestDaemon;
  let prom: RunningPrometheus;

  beforeAll(async () => {
    ca = pki.ca('ca', '/CN=netcheck test CA');
    pki.issue('server', ca, '/CN=localhost', { sans: 'IP:127.0.0.1,DNS:localhost' });
    const hash = bcrypt.hashSync(PASSWORD, 10).replace(/^\$2b\$/, '$2y$');
    const web = pki.write('web.yml', `tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\nbasic_auth_users:\n  prometheus: ${hash}\n`);
    lab = await startLabServers();
    daemon = await startDaemon(['--catalog', lab.catalog, ...lab.args, '--no-control', '--timeout', '2s', '--every', '2s', '--web.config.file', web]);
    const target = `127.0.0.1:${daemon.port}`;
    const job = (name: string, extra: Record<string, unknown>): Record<string, unknown> => ({ job_name: name, scheme: 'https', tls_config: { ca_file: ca.cert }, static_configs: [{ targets: [target] }], ...extra });
    const pw = pki.write('password', PASSWORD);
    prom = await startPrometheus(
      tools!.prometheus,
      JSON.stringify({
        global: { scrape_interval: '1s' },
        scrape_configs: [
          job('metrics', { basic_auth: { username: 'prometheus', password_file: pw } }),
          job('probe', { basic_auth: { username: 'prometheus', password_file: pw }, metrics_path: '/probe', params: { catalog: ['lab-report'], line: ['portal'] } }),
          job('wrong-password', { basic_auth: { username: 'prometheus', password: 'not the password' } }),
          job('no-auth', {}),
          { job_name: 'plain-http', static_configs: [{ targets: [target] }], basic_auth: { username: 'prometheus', password_file: pw } },
        ],
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await stopChild(daemon?.child);
    await lab?.close();
    pki.cleanup();
  });

  it('scrapes /metrics and /probe with the password; refuses without it, with a wrong one, or without TLS', async () => {
    expect(daemon.stderr()).toMatch(new RegExp(`listening on https://127\\.0\\.0\\.1:${daemon.port} \\(/metrics /healthz /report /probe\\) with basic auth`));
    const up = await until('every job scraped once', async () => {
      const r = await prom.query('up');
      return r.length === 5 ? Object.fromEntries(r.map((s) => [s.metric.job, s.value[1]])) : undefined;
    }, 40_000).catch((e: Error) => {
      throw new Error(`${e.message}; prometheus said: ${prom.log().slice(-2000)}`);
    });
    expect(up).toEqual({ metrics: '1', probe: '1', 'wrong-password': '0', 'no-auth': '0', 'plain-http': '0' });
    expect((await prom.query('probe_success{job="probe"}'))[0]!.value[1]).toBe('1');
    const verdicts = await until('a scheduled run scraped', async () => {
      const r = await prom.query('netcheck_line_verdict{job="metrics", verdict="fail"} == 1');
      return r.length ? r : undefined;
    }, 30_000);
    expect(verdicts.map((s) => s.metric.line).sort()).toEqual(['signaling', 'signaling-backup']);
  }, 90_000);

  it('answers 401 with a Basic challenge to a client without the password, 200 with it', async () => {
    const get = (auth?: string): Promise<{ status: number; challenge?: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: daemon.port, path: '/healthz', ca: ca.pem, servername: 'localhost', headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {} }, (res) => {
          res.resume();
          resolve({ status: res.statusCode!, ...(res.headers['www-authenticate'] ? { challenge: String(res.headers['www-authenticate']) } : {}) });
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get()).toEqual({ status: 401, challenge: 'Basic realm="netcheck", charset="UTF-8"' });
    expect((await get('prometheus:wrong')).status).toBe(401);
    expect((await get('nobody:' + PASSWORD)).status).toBe(401);
    expect((await get('prometheus:' + PASSWORD)).status).toBe(200);
  });
});
