/**
 * Real daemons from Debian for the tests (dnsmasq, coturn), each on loopback and on a port no
 * parallel test file can take: they cannot bind port 0, so they get a free port and are restarted
 * on another when it was taken meanwhile (EADDRINUSE). Prometheus, which can, is in prometheus.ts.
 * Callers find the binary with needTools() (test/helpers/tools.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { stunBindingRequest } from '../../src/probers/stun.js';
import { stopChild } from './wait.js';

export interface Daemon {
  port: number;
  proc: ChildProcess;
  /** What it printed so far (stdout and stderr). */
  log(): string;
  close(): Promise<void>;
}

/** A port free for both UDP and TCP on 127.0.0.1 right now (bound, then released). */
export async function freePort(): Promise<number> {
  for (;;) {
    const u = createSocket('udp4');
    await new Promise<void>((r) => u.bind(0, '127.0.0.1', r));
    const port = u.address().port;
    const t = createServer();
    const tcpFree = await new Promise<boolean>((r) => {
      t.once('error', () => r(false));
      t.listen(port, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => (tcpFree ? t.close(() => r()) : r()));
    await new Promise<void>((r) => u.close(() => r()));
    if (tcpFree) return port;
  }
}

/**
 * Start `argv(port)` on a free port until `ready(port)` says it serves; a daemon that exits first
 * (the port was taken between choosing and binding) or never gets ready is retried on another port.
 */
export async function startOnFreePort(what: string, argv: (port: number) => string[], ready: (port: number) => Promise<boolean>, opts: { attempts?: number; readyMs?: number } = {}): Promise<Daemon> {
  const attempts = opts.attempts ?? 5;
  let lastLog = '';
  for (let i = 0; i < attempts; i++) {
    const port = await freePort();
    const [cmd, ...args] = argv(port);
    const proc = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout!.on('data', (d) => (log += d));
    proc.stderr!.on('data', (d) => (log += d));
    proc.on('error', (err) => (log += `\nspawn: ${err.message}`));
    const end = performance.now() + (opts.readyMs ?? 8000);
    let ok = false;
    while (performance.now() < end && proc.exitCode === null && proc.signalCode === null) {
      if (await ready(port)) {
        ok = true;
        break;
      }
    }
    if (ok && proc.exitCode === null) return { port, proc, log: () => log, close: () => stopChild(proc) };
    await stopChild(proc);
    lastLog = log;
  }
  throw new Error(`${what} did not start after ${attempts} attempts: ${lastLog.slice(-2000)}`);
}

/** One UDP exchange: does something on 127.0.0.1:port answer `msg` within `ms`? */
export function udpAnswers(port: number, msg: Buffer, ms = 200): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, ms);
    s.on('error', () => undefined);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

const dnsReady = (port: number): Promise<boolean> =>
  udpAnswers(port, dnsPacket.encode({ id: 1, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'ready.invalid' }] })).then(Boolean);

/**
 * A real dnsmasq on 127.0.0.1 answering only what it is told: `records` become
 * `--address=/name/ip` (an empty list: NXDOMAIN), `extra` are further dnsmasq options.
 */
export function startDnsmasq(bin: string, records: Record<string, string[]> = {}, extra: string[] = []): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nc-dnsmasq-'));
  const args = ['--no-daemon', '--no-resolv', '--no-hosts', '--keep-in-foreground', '--listen-address=127.0.0.1', '--bind-interfaces', '--log-facility=-', `--pid-file=${join(dir, 'pid')}`];
  for (const [name, addrs] of Object.entries(records)) {
    if (addrs.length === 0) args.push(`--address=/${name}/`);
    for (const a of addrs) args.push(`--address=/${name}/${a}`);
  }
  return startOnFreePort('dnsmasq', (port) => [bin, `--port=${port}`, ...args, ...extra], dnsReady);
}

/** coturn as a plain STUN server (RFC 5389 Binding) on 127.0.0.1. */
export function startStunServer(bin: string): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nc-turn-'));
  return startOnFreePort(
    'coturn',
    (port) => [bin, '-n', '--stun-only', '--listening-ip', '127.0.0.1', '--listening-port', String(port), '--no-tls', '--no-dtls', '--no-cli', '--log-file', 'stdout', '--pidfile', join(dir, 'turn.pid')],
    async (port) => ((await udpAnswers(port, stunBindingRequest(Buffer.alloc(12, 7)), 300))?.length ?? 0) >= 20,
  );
}
