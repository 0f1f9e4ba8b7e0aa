/**
 * `netcheck reflect`: run the reflector (the cooperating far end of idle-timer checks) until
 * Ctrl-C. Prints one startup line saying what it listens on (or, with --json, one JSON line).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError } from '../../errors.js';
import { REFLECTOR_DEFAULTS } from '../../reflector/protocol.js';
import { interrupts } from '../signals.js';
import { startReflector, type ReflectorOptions } from '../../reflector/server.js';

/** Ports for a listener: `7070`, `4201-4264`, `80,443`, or `0` (any free port). */
export function parseListenPorts(text: unknown, flag: string): number[] {
  const out: number[] = [];
  for (const part of String(text).split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    const a = m ? Number(m[1]) : NaN;
    const b = m?.[2] !== undefined ? Number(m[2]) : a;
    if (!m || a > 65535 || b > 65535 || b < a || (a === 0 && b !== 0)) throw new UsageError(`${flag} '${String(text)}': use ports like 7070, 4201-4264 or 80,443 (0 = any free port)`);
    if (b - a >= 1024) throw new UsageError(`${flag} '${String(text)}': at most 1024 ports in one range`);
    for (let p = a; p <= b; p++) out.push(p);
  }
  if (!out.length) throw new UsageError(`${flag} needs ports, e.g. ${flag} 7070`);
  return out;
}

function posInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UsageError(`${flag} must be a whole number ≥ 1 (e.g. ${flag} 100)`);
  return v;
}

export async function reflectCommand({ argv }: { argv: Record<string, unknown> }): Promise<number> {
  const listen = typeof argv.listen === 'string' ? argv.listen.replace(/^\[(.*)\]$/, '$1') : REFLECTOR_DEFAULTS.listen;
  if (isIP(listen) === 0) throw new UsageError(`--listen '${listen}': give an IP address to bind (e.g. --listen 0.0.0.0 to serve on every interface)`);
  const given = ['tcp', 'udp', 'ws', 'wss'].some((k) => argv[k] !== undefined);
  const tcpPorts = argv.tcp !== undefined ? parseListenPorts(argv.tcp, '--tcp') : given ? [] : [REFLECTOR_DEFAULTS.tcpPort];
  const udpPorts = argv.udp !== undefined ? parseListenPorts(argv.udp, '--udp') : given ? [] : [REFLECTOR_DEFAULTS.udpPort];
  const wsPorts = argv.ws !== undefined ? parseListenPorts(argv.ws, '--ws') : given ? [] : [REFLECTOR_DEFAULTS.wsPort];
  const wssPorts = argv.wss !== undefined ? parseListenPorts(argv.wss, '--wss') : [];
  if ((argv.cert === undefined) !== (argv.key === undefined)) throw new UsageError('--cert and --key go together (e.g. --wss 443 --cert cert.pem --key key.pem)');
  let tls: ReflectorOptions['tls'];
  if (typeof argv.cert === 'string' && typeof argv.key === 'string') {
    if (!wssPorts.length) throw new UsageError('--cert/--key are for the wss endpoint: add --wss PORT (e.g. --wss 443)');
    const read = (f: string, flag: string): string => {
      try {
        return readFileSync(f, 'utf8');
      } catch (err) {
        throw new UsageError(`${flag} ${f}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      }
    };
    tls = { cert: read(argv.cert, '--cert'), key: read(argv.key, '--key') };
  }
  const secret = typeof argv.secret === 'string' ? argv.secret : process.env.NETCHECK_REFLECTOR_SECRET;
  if (secret !== undefined && secret.length < 8) throw new UsageError('--secret must be at least 8 characters');
  const quiet = !!argv.quiet;
  const verbose = !!argv.verbose;
  const maxFlows = posInt(argv['max-flows'], '--max-flows');
  const maxFlowsPerSource = posInt(argv['max-flows-per-source'], '--max-flows-per-source');
  const maxConnectionsPerSource = posInt(argv['max-connections-per-source'], '--max-connections-per-source');
  const ratePerSecond = posInt(argv.rate, '--rate');
  const opts: ReflectorOptions = {
    listen,
    tcpPorts,
    udpPorts,
    wsPorts,
    wssPorts,
    ...(tls ? { tls } : {}),
    ...(secret !== undefined ? { secret } : {}),
    ...(maxFlows ? { maxFlows } : {}),
    ...(maxFlowsPerSource ? { maxFlowsPerSource } : {}),
    ...(maxConnectionsPerSource ? { maxConnectionsPerSource } : {}),
    ...(ratePerSecond ? { ratePerSecond, rateBurst: ratePerSecond * 2 } : {}),
    ...(verbose ? { log: (l: string) => process.stderr.write(`netcheck reflect: ${l}\n`) } : {}),
  };
  let r;
  try {
    r = await startReflector(opts);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      throw new UsageError(`cannot listen on ${listen}${(e as { port?: number }).port !== undefined ? ` port ${String((e as { port?: number }).port)}` : ''}: ${e.code}`, 'NC_LISTEN');
    }
    throw err;
  }
  if (argv.json) {
    process.stdout.write(
      JSON.stringify({ ready: true, listen: r.listen, tcp: r.tcp, udp: r.udp, ws: r.ws, wss: r.wss, ...(r.fingerprint ? { fingerprint: r.fingerprint } : {}), secret: r.secret }) + '\n',
    );
  } else process.stdout.write(`${r.describe()}\n`);
  // Until SIGINT/SIGTERM (also one that came while starting: src/cli/signals.ts).
  const stop = interrupts.stop.signal;
  if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
  const s = r.stats();
  await r.close();
  if (!quiet) {
    const refused = Object.entries(s.refused).map(([k, v]) => `${v} ${k}`).join(', ');
    process.stderr.write(`netcheck reflect: stopped; ${s.armed} flows armed, ${s.wakesSent} sends after a gap, ${s.echoed} echoes, ${s.mediaSessions} media sessions, ${s.rateLimited} rate-limited${refused ? `, refused: ${refused}` : ''}\n`);
  }
  return 0;
}
