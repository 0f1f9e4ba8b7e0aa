/**
 * The registry of probe kinds: the only place that maps a kind name to its prober.
 * Adding a kind = a file in this folder, a line here, an entry in CHECK_OPTION_SCHEMAS, a test.
 *
 * Probers are imported when a run needs their kind ({@link loadProbers}), not at start-up: all of
 * them together (undici, ws, the X.509 stack) take ~75 ms to import, and a TCP sweep needs ~9 ms
 * of that.
 */
import type { Prober } from '../types.js';
import { compareDirect, perAddress, withRoute } from './paths.js';

// perAddress: every address of a name is probed, IPv6 without a route is skipped (paths.ts).
// compareDirect: `--compare-direct` also runs proxied probes directly.
const LOADERS: Record<string, () => Promise<Prober>> = {
  tcp: async () => perAddress((await import('./tcp.js')).tcp),
  udp: async () => perAddress((await import('./udp.js')).udp),
  dns: async () => (await import('./dns.js')).dns,
  http: async () => compareDirect(perAddress((await import('./http.js')).http)),
  tls: async () => compareDirect(perAddress((await import('./tls.js')).tls)),
  ocsp: async () => compareDirect(perAddress((await import('./ocsp.js')).ocsp)),
  crl: async () => compareDirect(perAddress((await import('./crl.js')).crl)),
  stun: async () => (await import('./stun.js')).stun,
  'ip-list': async () => (await import('./ipList.js')).ipList,
  'tcp-idle': async () => (await import('./tcp-idle.js')).tcpIdle,
  'udp-idle': async () => (await import('./udp-idle.js')).udpIdle,
  'ws-idle': async () => withRoute((await import('./ws-idle.js')).wsIdle),
  'ws-hold': async () => withRoute((await import('./ws-hold.js')).wsHold),
  // Against a netcheck reflector (issue 17): a stream of seconds, so one address, not every one.
  media: async () => (await import('./media.js')).media,
  nat: async () => (await import('./nat.js')).nat,
};

/** Every registered kind, in registry order. */
export const KINDS: readonly string[] = Object.keys(LOADERS);

/** The probers loaded so far, by kind (see {@link loadProbers}). */
export const PROBERS: Record<string, Prober> = {};

/** Load the probers of these kinds (unknown kinds are left out: the engine reports them). */
export async function loadProbers(kinds: Iterable<string>): Promise<void> {
  await Promise.all(
    [...new Set(kinds)].map(async (k) => {
      const load = LOADERS[k];
      if (load && !PROBERS[k]) PROBERS[k] = await load();
    }),
  );
}
