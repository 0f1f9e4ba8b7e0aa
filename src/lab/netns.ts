/**
 * The lab: three network namespaces (client → firewall → server) joined by veth pairs, with a real
 * nftables firewall in the middle. Tests, the benchmark and `netcheck demo`
 * build one per run and tear it down after, so nothing is ever routed from the root namespace.
 *
 * ```
 *  client [c0 10.200.1.2] ──veth── [fc 10.200.1.1] firewall [fs 10.200.2.1] ──veth── [s0 10.200.2.2] server
 * ```
 *
 * With `router: true` a fourth namespace sits between the firewall and the server, so a path has
 * several hops and the hops beyond the firewall carry public-looking addresses (documentation
 * prefixes, which exist only inside these namespaces), as an internet path would:
 *
 * ```
 *  client [c0 10.200.1.2] ── [fc 10.200.1.1] firewall [fs 192.0.2.2] ── [rf 192.0.2.1] router [rs 198.51.100.1] ── [s0 198.51.100.2] server
 * ```
 */
import { execFileSync, spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** A namespace of the lab, by role (`router` only in a lab built with `router: true`). */
export type LabRole = 'client' | 'firewall' | 'server' | 'router';

/** Can this process build a lab? (root, `ip`, `nft`). Says why not, so tests can skip loudly. */
export function labSupport(): { ok: true } | { ok: false; why: string } {
  if (process.platform !== 'linux') return { ok: false, why: `network namespaces need Linux (this is ${process.platform})` };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return { ok: false, why: 'the lab needs root (ip netns add, nft); run the lab tests as root (CI does)' };
  }
  const missing = ['ip', 'nft'].filter((cmd) => !which(cmd));
  if (missing.length) {
    return { ok: false, why: `missing ${missing.join(' and ')} (apt-get install -y --no-install-recommends iproute2 nftables)` };
  }
  return { ok: true };
}

/** PATH as the lab uses it: the caller's, then the system folders where `ip` and `nft` live. */
function labPath(): string {
  return [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'].join(':');
}

function which(cmd: string): boolean {
  return labPath().split(':').some((d) => existsSync(`${d}/${cmd}`));
}

export interface LabOptions {
  /**
   * Namespace name prefix; namespaces are `<prefix>-c`, `<prefix>-f`, `<prefix>-s`. Default: unique
   * per process and lab, so parallel runs never collide.
   */
  prefix?: string;
  /** nftables ruleset loaded in the firewall namespace once the links are up. */
  ruleset?: string;
  /** Extra sysctls for the firewall namespace, e.g. short conntrack timers. */
  fwSysctls?: Record<string, string>;
  /**
   * Put a router namespace (`<prefix>-r`) between the firewall and the server: the path then has
   * three hops, and the addresses beyond the firewall are {@link LAB_ROUTER_ADDR}'s.
   */
  router?: boolean;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Lab {
  /** Namespace names, for `ip netns exec` (`router` only with `router: true`). */
  names: { client: string; firewall: string; server: string; router?: string };
  /**
   * Addresses: client 10.200.1.2, firewall's client side 10.200.1.1, firewall's server side 10.200.2.1, server 10.200.2.2
   * ({@link LAB_ROUTER_ADDR} with `router: true`, which adds the router's two sides).
   */
  addr: { client: string; fwClient: string; fwServer: string; server: string; routerFw?: string; routerServer?: string };
  /** Run a command to completion in a namespace. Never throws for a non-zero exit. */
  exec(ns: LabRole, argv: string[], opts?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  /** Start a long-running process in a namespace; it is killed on {@link Lab.destroy}. */
  spawn(ns: LabRole, argv: string[]): ChildProcess;
  /**
   * Replace a namespace's ruleset (`flush ruleset` + load); the firewall's unless `ns` says
   * otherwise (e.g. `router`, for a drop beyond the customer's firewall). Throws with nft's message.
   */
  nft(ruleset: string, ns?: LabRole): Promise<void>;
  /** Set a sysctl inside one namespace (e.g. `net.ipv4.icmp_ratelimit`). */
  sysctl(ns: LabRole, key: string, value: string): Promise<void>;
  /** Kill every process in the lab's namespaces, then delete them. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Fixed lab addresses (they exist only inside namespaces a lab creates). */
export const LAB_ADDR = { client: '10.200.1.2', fwClient: '10.200.1.1', fwServer: '10.200.2.1', server: '10.200.2.2' } as const;

/**
 * Addresses of a lab with a router. Beyond the firewall they come from the documentation prefixes
 * (RFC 5737): public-looking, as an internet path is, yet routed nowhere but inside the lab.
 */
export const LAB_ROUTER_ADDR = {
  client: '10.200.1.2',
  fwClient: '10.200.1.1',
  fwServer: '192.0.2.2',
  routerFw: '192.0.2.1',
  routerServer: '198.51.100.1',
  server: '198.51.100.2',
} as const;

let labSeq = 0;
/** Labs not yet destroyed: removed synchronously if the process exits without cleaning up. */
const live = new Set<{ names: string[]; children: Set<ChildProcess> }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last-resort cleanup so a crashed test does not leave namespaces behind. Synchronous because
  // nothing asynchronous runs in an 'exit' handler.
  process.on('exit', () => {
    for (const l of live) {
      for (const c of l.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const n of l.names) {
        try {
          killNamespacePidsSync(n);
          execFileSync('ip', ['netns', 'del', n], { stdio: 'ignore', env: labEnv() });
        } catch {
          /* already gone */
        }
      }
    }
  });
}

function killNamespacePidsSync(ns: string): void {
  let out = '';
  try {
    out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', env: labEnv() });
  } catch {
    return;
  }
  for (const pid of out.split(/\s+/).filter(Boolean).map(Number)) {
    if (pid > 1 && pid !== process.pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* exited */
      }
    }
  }
}

/**
 * The environment of every process the lab starts: this one's without proxy variables (the lab's
 * namespaces have no proxy, so a proxy configured on this machine would only make lab runs fail),
 * and with the PATH on which labSupport() found `ip` and `nft`.
 */
function labEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: labPath() };
  for (const k of Object.keys(env)) if (/^(https?|all|no)_proxy$/i.test(k)) delete env[k];
  return env;
}

/** Run a command; resolve with its exit code and output (never rejects for a non-zero exit). */
function run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawnChild(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: labEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdin!.on('error', () => {
      /* the command exited without reading its input */
    });
    child.stdin!.end(opts.input ?? '');
    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      resolve({ code: null, stdout, stderr: stderr + String(err.message) });
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Run a command that must succeed; throw with its stderr otherwise. */
async function must(argv: string[], input?: string): Promise<void> {
  const r = await run(argv, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`lab: \`${argv.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim()}`);
}

/**
 * Build a lab. Links are created inside the namespaces (`ip -n A link add … peer … netns B`) so
 * nothing ever appears in the root namespace. On any failure, whatever was created is removed.
 */
export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  const support = labSupport();
  if (!support.ok) throw new Error(`lab unavailable: ${support.why}`);
  const prefix = opts.prefix ?? `nc${process.pid}x${(labSeq++).toString(36)}${randomBytes(2).toString('hex')}`;
  const names: Lab['names'] = { client: `${prefix}-c`, firewall: `${prefix}-f`, server: `${prefix}-s`, ...(opts.router ? { router: `${prefix}-r` } : {}) };
  const children = new Set<ChildProcess>();
  const entry = { names: [names.client, names.firewall, names.server, ...(names.router ? [names.router] : [])], children };
  live.add(entry);
  installExitHook();
  const A: Lab['addr'] = opts.router ? { ...LAB_ROUTER_ADDR } : { ...LAB_ADDR };
  let destroyed: Promise<void> | undefined;

  const nsName = (ns: LabRole): string => {
    const n = names[ns];
    if (!n) throw new Error(`lab: unknown namespace role '${String(ns)}'`);
    return n;
  };

  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const n of entry.names) {
        // Kill only what lives in our namespaces, then delete them; `ip netns del` of a namespace
        // with live processes would leave the namespace alive until they exit.
        const pids = await run(['ip', 'netns', 'pids', n]);
        for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
          if (pid > 1 && pid !== process.pid) {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {
              /* exited */
            }
          }
        }
      }
      await Promise.all(entry.names.map((n) => run(['ip', 'netns', 'del', n])));
      live.delete(entry);
    })();
    return destroyed;
  };

  const sysctl = async (ns: LabRole, key: string, value: string): Promise<void> => {
    if (!/^[a-z0-9_.\-/]+$/i.test(key)) throw new Error(`lab: bad sysctl key '${key}'`);
    // Written from inside the namespace: /proc/sys/net is per network namespace.
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    await must(['ip', 'netns', 'exec', nsName(ns), 'sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', value, path]);
  };

  try {
    for (const n of entry.names) await must(['ip', 'netns', 'add', n]);
    const C = names.client;
    const F = names.firewall;
    const S = names.server;
    const R = names.router;
    const steps: string[][] = [
      ['ip', '-n', C, 'link', 'add', 'c0', 'type', 'veth', 'peer', 'name', 'fc', 'netns', F],
      ['ip', '-n', C, 'addr', 'add', `${A.client}/24`, 'dev', 'c0'],
      ['ip', '-n', F, 'addr', 'add', `${A.fwClient}/24`, 'dev', 'fc'],
      ['ip', '-n', F, 'addr', 'add', `${A.fwServer}/24`, 'dev', 'fs'],
      ['ip', '-n', S, 'addr', 'add', `${A.server}/24`, 'dev', 's0'],
      ['ip', '-n', C, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', F, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', S, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', C, 'link', 'set', 'c0', 'up'],
      ['ip', '-n', F, 'link', 'set', 'fc', 'up'],
      ['ip', '-n', F, 'link', 'set', 'fs', 'up'],
      ['ip', '-n', S, 'link', 'set', 's0', 'up'],
      ['ip', '-n', C, 'route', 'add', 'default', 'via', A.fwClient],
    ];
    if (R) {
      // firewall [fs] ── [rf] router [rs] ── [s0] server; the firewall's default route is the router.
      steps.splice(1, 0, ['ip', '-n', F, 'link', 'add', 'fs', 'type', 'veth', 'peer', 'name', 'rf', 'netns', R], ['ip', '-n', R, 'link', 'add', 'rs', 'type', 'veth', 'peer', 'name', 's0', 'netns', S]);
      steps.push(
        ['ip', '-n', R, 'addr', 'add', `${A.routerFw}/24`, 'dev', 'rf'],
        ['ip', '-n', R, 'addr', 'add', `${A.routerServer}/24`, 'dev', 'rs'],
        ['ip', '-n', R, 'link', 'set', 'lo', 'up'],
        ['ip', '-n', R, 'link', 'set', 'rf', 'up'],
        ['ip', '-n', R, 'link', 'set', 'rs', 'up'],
        ['ip', '-n', F, 'route', 'add', 'default', 'via', A.routerFw!],
        ['ip', '-n', S, 'route', 'add', 'default', 'via', A.routerServer!],
      );
    } else {
      steps.splice(1, 0, ['ip', '-n', F, 'link', 'add', 'fs', 'type', 'veth', 'peer', 'name', 's0', 'netns', S]);
      steps.push(['ip', '-n', S, 'route', 'add', 'default', 'via', A.fwServer]);
    }
    for (const s of steps) await must(s);
    await sysctl('firewall', 'net.ipv4.ip_forward', '1');
    if (R) await sysctl('router', 'net.ipv4.ip_forward', '1');
    for (const [k, v] of Object.entries(opts.fwSysctls ?? {})) await sysctl('firewall', k, v);
  } catch (err) {
    await destroy();
    throw err;
  }

  const lab: Lab = {
    names,
    addr: A,
    exec: (ns, argv, o) => run(['ip', 'netns', 'exec', nsName(ns), ...argv], o ?? {}),
    spawn: (ns, argv) => {
      const child = spawnChild('ip', ['netns', 'exec', nsName(ns), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: labEnv() });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    nft: async (ruleset, ns = 'firewall') => {
      await must(['ip', 'netns', 'exec', nsName(ns), 'nft', '-f', '-'], `flush ruleset\n${ruleset}\n`);
    },
    sysctl,
    destroy,
  };
  if (opts.ruleset !== undefined) {
    try {
      await lab.nft(opts.ruleset);
    } catch (err) {
      await destroy();
      throw err;
    }
  }
  return lab;
}

/** Extra rules for {@link statefulRuleset} beyond the forward chain. */
export interface RulesetExtras {
  /** Rules in the firewall's own `input` chain (policy drop), e.g. to admit redirected traffic. */
  input?: string;
  /** Rules in a `nat prerouting` chain, e.g. `tcp dport 1-65535 redirect to :8443`. */
  prerouting?: string;
  /**
   * Forward rules before `ct state established,related accept`, so they also see packets of
   * established flows and ICMP errors (e.g. `numgen random mod 100 < 5 drop`, or dropping ICMP
   * "fragmentation needed").
   */
  forwardFirst?: string;
  /** Rules in an `output` chain (policy accept) for what the firewall itself sends (its ICMP errors). */
  output?: string;
  /** The NAT statement towards the server (default `masquerade`; e.g. `masquerade random,fully-random`). */
  masquerade?: string;
}

/**
 * LAB.md's stateful firewall: forward `policy drop`; established/related accepted; `extraForward`
 * rules next (so a test's drop/reject applies to new flows); then new flows from the client side
 * accepted; masquerade towards the server; and an `input` chain with `policy drop`, so a reply whose
 * state expired is dropped rather than answered by the firewall itself.
 */
export function statefulRuleset(extraForward = '', extras: RulesetExtras = {}): string {
  const indent = (s: string): string =>
    s
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => `    ${l}`)
      .join('\n');
  return `table inet lab {
  chain forward {
    type filter hook forward priority filter; policy drop;
${indent(extras.forwardFirst ?? '')}
    ct state established,related accept
${indent(extraForward)}
    iifname "fc" ct state new accept
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ct state established,related accept
${indent(extras.input ?? '')}
  }
${extras.output ? `  chain output {
    type filter hook output priority filter; policy accept;
${indent(extras.output)}
  }
` : ''}}
table ip labnat {
  chain prerouting {
    type nat hook prerouting priority dstnat;
${indent(extras.prerouting ?? '')}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat;
    oifname "fs" ${extras.masquerade ?? 'masquerade'}
  }
}
`;
}
