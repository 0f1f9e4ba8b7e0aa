/**
 * The registry of probe kinds: the only place that maps a kind name to its prober.
 * Adding a kind = a file in this folder, a line here, an entry in CHECK_OPTION_SCHEMAS, a test.
 */
import type { Prober } from '../types.js';
import { crl } from './crl.js';
import { dns } from './dns.js';
import { http } from './http.js';
import { ipList } from './ipList.js';
import { ocsp } from './ocsp.js';
import { compareDirect, perAddress, withRoute } from './paths.js';
import { stun } from './stun.js';
import { tcp } from './tcp.js';
import { tls } from './tls.js';
import { tcpIdle } from './tcp-idle.js';
import { udp } from './udp.js';
import { udpIdle } from './udp-idle.js';
import { wsHold } from './ws-hold.js';
import { wsIdle } from './ws-idle.js';

// perAddress: every address of a name is probed, IPv6 without a route is skipped (paths.ts).
// compareDirect: `--compare-direct` also runs proxied probes directly.
export const PROBERS: Record<string, Prober> = {
  tcp: perAddress(tcp),
  udp: perAddress(udp),
  dns,
  http: compareDirect(perAddress(http)),
  tls: compareDirect(perAddress(tls)),
  ocsp: compareDirect(perAddress(ocsp)),
  crl: compareDirect(perAddress(crl)),
  stun,
  'ip-list': ipList,
  'tcp-idle': tcpIdle,
  'udp-idle': udpIdle,
  'ws-idle': withRoute(wsIdle),
  'ws-hold': withRoute(wsHold),
};
