/**
 * Path-MTU black holes (issue 17). A TCP connect that succeeds, then a TLS handshake or an HTTP
 * reply that never arrives, is what a path looks like when a link on it carries smaller packets
 * than the ends think and the ICMP "fragmentation needed" that should say so is filtered: the
 * small packets of the handshake pass, the first full-size one vanishes, and TCP retries it
 * forever at the same size.
 *
 * Told apart by exchanges of different sizes:
 * - a small request to the same server (HTTP HEAD) where the stalled exchange allows one;
 * - datagrams of increasing size, don't-fragment set (Linux's default for UDP), echoed by a
 *   netcheck reflector, each sent up to three times: where path-MTU discovery works the sender
 *   learns the smaller MTU from the first loss and the retries pass (fragmented); in a black hole
 *   every try of a size above the path's MTU is lost, while the smaller sizes pass.
 * When small exchanges pass and large ones never do, the stalled probe's reason becomes
 * `PMTU_BLACKHOLE`, with the largest size that passed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import { httpScheme, type HttpOptions } from '../kinds/http.js';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { sniName } from '../util/ip.js';

/** A netcheck reflector (`netcheck reflect`), as `--reflector HOST --reflector-udp-port P` give it. */
export interface ReflectorTarget {
  /** Address or name; names go through the run's resolver. */
  host: string;
  udpPort: number;
  tcpPort?: number;
}

/** Reasons of an exchange that connected and then stalled. */
export const STALL_REASONS: ReadonlySet<string> = new Set(['TLS_HANDSHAKE_TIMEOUT', 'HTTP_HEADERS_TIMEOUT', 'HTTP_BODY_DEADLINE']);

/** IP packet sizes tried (bytes): from the IPv4 minimum every host takes to Ethernet's 1500. */
export const PMTU_SIZES = [576, 1024, 1200, 1280, 1300, 1360, 1400, 1440, 1480, 1500] as const;

/** `ProbeResult.data.pmtu` of a stalled probe. */
export interface PmtuData {
  /** What was measured: datagram sizes echoed by the reflector, and/or a small request to the same server. */
  methods: ('udp-echo' | 'small-request')[];
  /** The reflector the sizes were measured against (`host:port`). */
  reflector?: string;
  /** Each size tried (IP packet bytes) and whether any try came back. */
  sizes?: { bytes: number; passed: boolean }[];
  /** Largest IP packet (bytes) that crossed the path and came back. */
  largestPassedBytes?: number;
  /** Smallest size that never came back in any try. */
  smallestLostBytes?: number;
  /** A small request (HTTP HEAD) to the same server: answered, and how many bytes came back. */
  smallRequest?: { answered: boolean; bytes?: number };
  blackhole: boolean;
}

/** Echo datagrams of each size through `address:port`; which sizes came back (any of `tries`). */
export async function udpEchoSizes(address: string, port: number, o: { sizes?: readonly number[]; tries?: number; gapMs?: number; signal?: AbortSignal } = {}): Promise<{ bytes: number; passed: boolean }[] | { error: string }> {
  const family = isIP(address) === 6 ? 6 : 4;
  const header = family === 6 ? 48 : 28;
  const sizes = o.sizes ?? PMTU_SIZES;
  const tries = o.tries ?? 3;
  const gapMs = o.gapMs ?? 400;
  const tag = randomBytes(6).toString('hex');
  const passed = new Set<number>();
  let sock: Socket | undefined;
  try {
    return await new Promise((resolve) => {
      const s = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      sock = s;
      let done = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (v: { bytes: number; passed: boolean }[] | { error: string }): void => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        o.signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = (): void => finish({ error: 'interrupted' });
      o.signal?.addEventListener('abort', onAbort, { once: true });
      s.on('message', (msg) => {
        // `NCPMTU <tag> <size>` then padding: only our own echoes count (never starts `NCR1 `).
        const m = /^NCPMTU ([0-9a-f]{12}) (\d+) /.exec(msg.subarray(0, 40).toString('latin1'));
        if (m && m[1] === tag && Number(m[2]) === msg.length + header) passed.add(Number(m[2]));
      });
      // ECONNREFUSED: an ICMP port unreachable, nothing listens (or a firewall rejects): no result.
      s.on('error', (err) => finish({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
      s.connect(port, address, (err?: Error) => {
        if (err) return finish({ error: (err as NodeJS.ErrnoException).code ?? err.message });
        const round = (): void => {
          for (const bytes of sizes) {
            if (passed.has(bytes)) continue;
            const head = Buffer.from(`NCPMTU ${tag} ${bytes} `, 'latin1');
            const payload = Buffer.alloc(bytes - header, 0x78);
            head.copy(payload);
            s.send(payload, (e) => {
              // EMSGSIZE: larger than this host's own interface allows without fragmenting.
              if (e && (e as NodeJS.ErrnoException).code !== 'EMSGSIZE') finish({ error: (e as NodeJS.ErrnoException).code ?? e.message });
            });
          }
        };
        for (let i = 0; i < tries; i++) timers.push(setTimeout(round, i * gapMs));
        // The last round's echoes get one more gap (and a little for a slow far end).
        timers.push(setTimeout(() => finish(sizes.map((bytes) => ({ bytes, passed: passed.has(bytes) }))), tries * gapMs + 400));
      });
    });
  } finally {
    try {
      sock?.close();
    } catch {
      /* already closed */
    }
  }
}

/** A HEAD request to the server of a stalled http probe: does a small reply get through? */
function smallRequest(spec: ProbeSpec<HttpOptions>, address: string, timeoutMs: number, signal?: AbortSignal): Promise<{ answered: boolean; bytes?: number }> {
  const scheme = httpScheme(spec);
  const path = spec.options.path ?? '/';
  const req = scheme === 'https' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const r = req(
      {
        host: address,
        port: spec.port,
        path,
        method: 'HEAD',
        headers: { host: spec.host, 'user-agent': 'netcheck', connection: 'close' },
        timeout: timeoutMs,
        agent: false,
        ...(scheme === 'https' ? { rejectUnauthorized: false, ...(sniName(spec.host) ? { servername: spec.host } : {}) } : {}),
        ...(signal ? { signal } : {}),
      },
      (res) => {
        // A rough size of what came back: the status line and headers as sent.
        const bytes = res.rawHeaders.reduce((n, h) => n + h.length + 2, 16);
        res.resume();
        resolve({ answered: true, bytes });
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', () => resolve({ answered: false }));
    r.end();
  });
}

/**
 * Look at one stalled probe (mutates it): small request, sizes through the reflector, and the
 * reason `PMTU_BLACKHOLE` when small exchanges pass and large ones never do.
 */
export async function diagnoseStall(r: ProbeResult, spec: ProbeSpec | undefined, reflector: ReflectorTarget | undefined, lookup: ((host: string) => Promise<{ address: string }[]>) | undefined, signal?: AbortSignal): Promise<void> {
  // Through a proxy the stalled path is the proxy's: sizes to the reflector say nothing about it.
  if (r.data?.route === 'proxy' || !r.address) return;
  const pmtu: PmtuData = { methods: [], blackhole: false };
  const timeoutMs = Math.min(Math.max(spec?.timeoutMs ?? 3000, 1000), 5000);
  if (spec && r.kind === 'http' && r.reason !== 'TLS_HANDSHAKE_TIMEOUT') {
    pmtu.methods.push('small-request');
    pmtu.smallRequest = await smallRequest(spec, r.address, timeoutMs, signal);
  }
  if (reflector) {
    let address: string | undefined = isIP(reflector.host) ? reflector.host : undefined;
    if (!address && lookup) address = (await lookup(reflector.host).catch(() => []))[0]?.address;
    if (address) {
      const sizes = await udpEchoSizes(address, reflector.udpPort, signal ? { signal } : {});
      pmtu.reflector = `${reflector.host}:${reflector.udpPort}`;
      if (!('error' in sizes)) {
        pmtu.methods.push('udp-echo');
        pmtu.sizes = sizes;
        const lost = sizes.filter((s) => !s.passed).map((s) => s.bytes);
        const smallestLost = lost.length ? Math.min(...lost) : undefined;
        const below = sizes.filter((s) => s.passed && (smallestLost === undefined || s.bytes < smallestLost)).map((s) => s.bytes);
        if (below.length) pmtu.largestPassedBytes = Math.max(...below);
        if (smallestLost !== undefined) pmtu.smallestLostBytes = smallestLost;
      }
    }
  }
  if (!pmtu.methods.length) return;
  r.data = { ...r.data, pmtu };
  const largest = pmtu.largestPassedBytes;
  const sizesSay = pmtu.sizes && largest !== undefined && pmtu.smallestLostBytes !== undefined;
  const headSays = pmtu.smallRequest?.answered === true;
  // A small request that also stalls points elsewhere (a dead server, DPI): no black-hole claim.
  if (sizesSay && pmtu.smallRequest?.answered !== false) {
    pmtu.blackhole = true;
    const head = headSays ? `a small request to the same server (HEAD) was answered, ` : '';
    r.reason = 'PMTU_BLACKHOLE';
    r.detail =
      `${r.detail ?? 'connected, then stalled'}: a path-MTU black hole — ${head}packets up to ${largest} bytes cross the path to the reflector ${pmtu.reflector} and back, ` +
      `${pmtu.smallestLostBytes} bytes and more never do, even resent, and no ICMP "fragmentation needed" makes the sender shrink them`;
    return;
  }
  if (pmtu.sizes && pmtu.smallestLostBytes === undefined) {
    r.detail = `${r.detail}; not a path-MTU black hole: packets of every size up to 1500 bytes cross the path to the reflector ${pmtu.reflector} and back`;
    return;
  }
  if (pmtu.reflector && !pmtu.sizes) {
    r.detail = `${r.detail}; the reflector ${pmtu.reflector} did not echo test datagrams, so packet sizes could not be measured`;
  } else if (pmtu.sizes && largest === undefined) {
    r.detail = `${r.detail}; the reflector ${pmtu.reflector} did not echo even small datagrams, so packet sizes could not be compared`;
  }
  if (headSays && !sizesSay) {
    r.detail = `${r.detail}; a small request (HEAD) to the same server was answered, so only large replies stall: possibly a path-MTU black hole (run with --reflector HOST --reflector-udp-port PORT to measure which packet sizes pass)`;
  }
}
