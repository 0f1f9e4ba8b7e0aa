/**
 * `netcheck daemon`: validate everything up front (catalogs, parameters, durations, addresses),
 * then run the scheduler until SIGTERM/SIGINT.
 */
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { loadCatalog } from '../../catalog/builtin.js';
import { expandCatalog } from '../../catalog/expand.js';
import { DEFAULTS } from '../../constants.js';
import { Daemon, type DaemonTarget } from '../../daemon/daemon.js';
import { loadWebConfig, type WebConfig } from '../../daemon/webconfig.js';
import { EXIT, UsageError } from '../../errors.js';
import { describeIoError, unwritableReason } from '../../util/atomic.js';
import { parseDuration } from '../../util/duration.js';
import { ipRangesFromArgv } from '../ipRanges.js';
import { checkRunOptions, paramsFromArgv, expandOptionsFromArgv } from '../options.js';
import { interrupts } from '../signals.js';
import { addTimerChecks, timerPlanFromArgv } from '../timers.js';
import { isLoopbackHost } from '../../util/ip.js';

/** Defaults of the daemon flags (also shown by --help). */
export const DAEMON_DEFAULTS = { every: '15m', listen: '127.0.0.1:9469', keep: 10, webhookTimeout: '5s', webhookRetries: 4, webhookBackoff: '2s' } as const;

/** `HOST:PORT`, `[v6]:PORT` or `:PORT` (loopback). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]*):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port > 65535 || (m[1] && isIP(m[1]) === 0 && m[1] !== 'localhost')) {
    throw new UsageError(`--listen '${text}': use ADDRESS:PORT with an IP address (e.g. --listen 127.0.0.1:9469, or [::1]:9469)`);
  }
  return { host: m[1] || '127.0.0.1', port };
}

/**
 * Split catalog parameters between catalogs: `--param ID:NAME=VALUE` goes to catalog ID only, an
 * unscoped `NAME=VALUE` to every catalog that declares NAME. A parameter no catalog takes is an
 * error, as it is for a single run.
 */
export function distributeParams(catalogs: { id: string; declared: string[] }[], given: Record<string, string>): Map<string, Record<string, string>> {
  const out = new Map(catalogs.map((c) => [c.id, {} as Record<string, string>]));
  for (const [key, value] of Object.entries(given)) {
    const colon = key.indexOf(':');
    if (colon > 0) {
      const id = key.slice(0, colon);
      const name = key.slice(colon + 1);
      const c = catalogs.find((x) => x.id === id);
      if (!c) throw new UsageError(`--param ${key}=…: no catalog '${id}' in this daemon (catalogs: ${catalogs.map((x) => x.id).join(', ')})`);
      if (!c.declared.includes(name)) throw new UsageError(`--param ${key}=…: catalog '${id}' has no parameter '${name}'${c.declared.length ? `; its parameters: ${c.declared.join(', ')}` : ''}`);
      out.get(id)![name] = value;
      continue;
    }
    const takers = catalogs.filter((c) => c.declared.includes(key));
    if (!takers.length) throw new UsageError(`--${key}: none of the catalogs (${catalogs.map((c) => c.id).join(', ')}) has a parameter '${key}'`);
    for (const c of takers) out.get(c.id)![key] ??= value;
  }
  return out;
}

/** `--web.config.file FILE` (yargs nests a dotted flag: argv.web.config.file). */
function webConfigFileOf(argv: Record<string, unknown>): string | undefined {
  const v = (argv.web as { config?: { file?: unknown } } | undefined)?.config?.file;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new UsageError('--web.config.file needs a file (e.g. --web.config.file /etc/netcheck/web.yml; see docs/daemon.md)');
  return v;
}

/**
 * What to say at start when the endpoints can be reached from other hosts: loudly when nothing
 * protects them (issue 16), and when only half of TLS + auth is set.
 */
export function exposureWarning(host: string, shown: string, web: WebConfig | undefined): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  const tls = !!web?.tls;
  const auth = !!web?.users.size;
  if (tls && auth) return undefined;
  if (!tls && !auth) {
    return (
      `netcheck daemon: WARNING: ${shown} is reachable from other hosts with neither TLS nor authentication.\n` +
      `netcheck daemon: WARNING: anyone who can reach it reads /report and /metrics (this network's internal addresses and which vendor lines fail) and can make it connect anywhere with /probe?target=.\n` +
      `netcheck daemon: WARNING: give --web.config.file FILE (TLS and basic auth, in Prometheus exporter-toolkit format; see docs/daemon.md), or --listen 127.0.0.1:${shown.split(':').pop()}.\n`
    );
  }
  return tls
    ? `netcheck daemon: warning: ${shown} serves TLS but asks no one for a password: anyone who can reach it reads /report and /metrics; add basic_auth_users to ${web!.file}\n`
    : `netcheck daemon: warning: ${shown} asks for a password over plain HTTP, which anyone on the path can read; add tls_server_config to ${web!.file}\n`;
}

/** `netcheck daemon`: validate, start, and serve until SIGTERM/SIGINT; exit 0 after a clean stop. */
export async function daemonCommand({ argv }: { argv: Record<string, unknown> }): Promise<number> {
  for (const flag of ['output', 'format', 'json'] as const) {
    if (argv[flag] !== undefined) throw new UsageError(`--${flag} does not apply to the daemon: it serves the latest report on /report and keeps reports in --reports-dir (e.g. --reports-dir /var/lib/netcheck)`);
  }
  const o = checkRunOptions(argv);
  const names = ((argv.catalog as string[] | string | undefined) === undefined ? [] : ([] as string[]).concat(argv.catalog as string[])).map(String);
  if (!names.length) throw new UsageError('netcheck daemon needs at least one --catalog NAME|FILE (e.g. netcheck daemon --catalog eschat --param signaling-port=7400 --every 15m)');
  const everyMs = parseDuration(String(argv.every ?? DAEMON_DEFAULTS.every), '--every');
  // 0: no schedule of its own; Prometheus drives the checks through /probe.
  if (everyMs !== 0 && everyMs < 1000) throw new UsageError('--every must be at least 1s, or 0s for no schedule (only /probe) (e.g. --every 15m)');
  const jitterMs = argv.jitter !== undefined ? parseDuration(String(argv.jitter), '--jitter') : 0;
  if (everyMs > 0 && jitterMs >= everyMs) throw new UsageError(`--jitter must be shorter than --every (e.g. --every ${DAEMON_DEFAULTS.every} --jitter 30s)`);
  const keep = argv.keep ?? DAEMON_DEFAULTS.keep;
  if (typeof keep !== 'number' || !Number.isInteger(keep) || keep < 1) throw new UsageError('--keep must be a whole number ≥ 1 (e.g. --keep 10)');
  const listen = parseListen(String(argv.listen ?? DAEMON_DEFAULTS.listen));
  const webFile = webConfigFileOf(argv);
  const web = webFile !== undefined ? loadWebConfig(webFile) : undefined;
  let webhook: { url: string; timeoutMs: number; retries: number; backoffMs: number } | undefined;
  if (argv.webhook !== undefined) {
    let url: URL;
    try {
      url = new URL(String(argv.webhook));
    } catch {
      throw new UsageError(`--webhook '${String(argv.webhook)}' is not a URL (e.g. --webhook https://alerts.example.com/netcheck)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--webhook must be an http or https URL, not ${url.protocol}`);
    webhook = {
      url: url.href,
      timeoutMs: parseDuration(String(argv['webhook-timeout'] ?? DAEMON_DEFAULTS.webhookTimeout), '--webhook-timeout'),
      retries: DAEMON_DEFAULTS.webhookRetries,
      backoffMs: parseDuration(DAEMON_DEFAULTS.webhookBackoff),
    };
  }

  // The reports folder is made and checked at start-up, not found unwritable after the first run.
  if (typeof argv['reports-dir'] === 'string') {
    const dir = argv['reports-dir'];
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      // A recursive mkdir says ENOENT for a read-only parent; a plain one gives the real reason.
      let code = (err as NodeJS.ErrnoException).code;
      try {
        mkdirSync(dir);
      } catch (again) {
        code = (again as NodeJS.ErrnoException).code ?? code;
      }
      throw new UsageError(`--reports-dir ${dir}: cannot create it (${describeIoError(code)})`, 'NC_OUTPUT');
    }
    const why = unwritableReason(join(dir, 'netcheck-check.json'));
    if (why) throw new UsageError(`--reports-dir ${dir}: ${why}`, 'NC_OUTPUT');
  }
  const loaded = names.map((n) => loadCatalog(n));
  const ids = loaded.map((c) => c.def.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new UsageError(`--catalog: '${dup}' is given twice`);
  const params = distributeParams(
    loaded.map((c) => ({ id: c.def.id, declared: Object.keys(c.def.parameters ?? {}) })),
    paramsFromArgv(argv),
  );
  // Plans are expanded once, exactly as `netcheck run` would (AWS ranges, --timers included), so a
  // bad parameter fails at start-up, not at 3 a.m.
  const awsIpRanges = await ipRangesFromArgv(argv);
  const timerPlan = timerPlanFromArgv(argv);
  let reflectorSecret: string | undefined;
  const targets: DaemonTarget[] = loaded.map((cat) => {
    const plan = expandCatalog(cat, {
      params: params.get(cat.def.id) ?? {},
      ...expandOptionsFromArgv(argv),
      ...(awsIpRanges ? { awsIpRanges } : {}),
    });
    if (timerPlan && plan.catalog.timers?.length) reflectorSecret = addTimerChecks(plan, timerPlan).secret ?? reflectorSecret;
    return { id: cat.def.id, plan };
  });
  if (timerPlan && !targets.some((t) => t.plan.catalog.timers?.length)) throw new UsageError(`--timers: none of the catalogs (${ids.join(', ')}) documents an idle timer`);

  const log = (line: string): void => {
    if (!o.quiet || /failed|not saved|webhook|bug/.test(line)) process.stderr.write(`netcheck daemon: ${line}\n`);
  };
  const daemon = new Daemon({
    targets,
    everyMs,
    jitterMs,
    host: listen.host,
    port: listen.port,
    ...(typeof argv['reports-dir'] === 'string' ? { reportsDir: argv['reports-dir'] } : {}),
    keep,
    ...(webhook ? { webhook } : {}),
    // The same engine options `netcheck run` passes (timeouts, DNS, control, proxy, …), so an option
    // added for runs reaches the daemon's runs too.
    check: { ...o, ...(reflectorSecret !== undefined ? { reflectorSecret } : {}) },
    redact: !!o.redact,
    ...(o.prometheusTextfile ? { textfile: o.prometheusTextfile } : {}),
    log,
    ...(web ? { web } : {}),
    probe: { adhocTimeoutMs: o.timeoutMs ?? DEFAULTS.timeoutMs },
  });

  let bound: { host: string; port: number };
  try {
    bound = await daemon.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UsageError(`--listen ${listen.host}:${listen.port}: cannot listen (${e.code ?? e.message})`);
  }
  const shown = isIP(bound.host) === 6 ? `[${bound.host}]:${bound.port}` : `${bound.host}:${bound.port}`;
  // Always printed (even with --quiet): scripts and tests read the port from it.
  process.stderr.write(
    `netcheck daemon: listening on ${web?.tls ? 'https' : 'http'}://${shown} (/metrics /healthz /report /probe)${web?.users.size ? ' with basic auth' : ''}; ` +
      `${targets.map((t) => `${t.id}: ${t.plan.probes.length} probes`).join(', ')}; ${everyMs > 0 ? `every ${argv.every ?? DAEMON_DEFAULTS.every}` : 'no schedule (checks run when /probe is scraped)'}\n`,
  );
  const warning = exposureWarning(bound.host, shown, web);
  if (warning) process.stderr.write(warning);

  // SIGTERM/SIGINT (src/cli/signals.ts; also one that came while starting): the first stops,
  // letting probes in flight finish; the second cancels them.
  await new Promise<void>((resolve) => {
    const onStop = (): void => {
      log('stopping (probes in flight finish first; send the signal again to cancel them)');
      daemon.shutdown().then(resolve, resolve);
    };
    const onHard = (): void => void daemon.shutdown(true);
    if (interrupts.stop.signal.aborted) onStop();
    else interrupts.stop.signal.addEventListener('abort', onStop, { once: true });
    if (interrupts.hard.signal.aborted) onHard();
    else interrupts.hard.signal.addEventListener('abort', onHard, { once: true });
  });
  log('stopped');
  return EXIT.OK;
}
