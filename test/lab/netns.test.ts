/**
 * The lab harness itself: namespaces come up with a working path through a real nftables firewall,
 * and destroy() leaves nothing behind (no namespace, no process).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createLab, labSupport, statefulRuleset } from '../../src/lab/netns.js';
import { SERVE_JS, waitReady } from '../../src/lab/serve.js';

const support = labSupport();
if (!support.ok) console.warn(`SKIPPING lab harness tests: ${support.why}`);

/** Built fixture (the test spawns it inside a namespace, so it must be plain JS). */
const SERVE = SERVE_JS.replace(/\/src\/lab\/serve\.ts$/, '/dist/lab/serve.js');

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** A TCP connect from the client namespace: prints `ok` or the error code. */
const connectScript = (host: string, port: number, timeoutMs: number): string[] => [
  process.execPath,
  '-e',
  `const s=require('net').connect(${port},'${host}');const t=setTimeout(()=>{console.log('TIMEOUT');s.destroy()},${timeoutMs});` +
    `s.on('connect',()=>{console.log('ok');clearTimeout(t);s.destroy()});s.on('error',e=>{console.log(e.code);clearTimeout(t)})`,
];

describe.skipIf(!support.ok)('lab harness (netns + nftables)', () => {
  it('builds three namespaces, forwards through the stateful firewall, and tears down cleanly', async () => {
    const lab = await createLab({ ruleset: statefulRuleset('tcp dport 1 drop') });
    let destroyed = false;
    try {
      const all = namespaces();
      for (const n of Object.values(lab.names)) expect(all).toContain(n);
      // Nothing appears in the root namespace: the veths live only inside the lab.
      const rootLinks = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
      expect(rootLinks).not.toMatch(/\b(c0|fc|fs|s0)@/);

      const server = lab.spawn('server', [process.execPath, SERVE, JSON.stringify({ host: lab.addr.server, tcp: [0] })]);
      const ready = await waitReady(server);
      const port = ready.tcp[0]!;
      const open = await lab.exec('client', connectScript(lab.addr.server, port, 3000), { timeoutMs: 10_000 });
      expect(open.stdout.trim()).toBe('ok');

      // A closed port answers RST through the firewall (the server's kernel answers it).
      const closed = await lab.exec('client', connectScript(lab.addr.server, port === 2 ? 3 : 2, 3000), { timeoutMs: 10_000 });
      expect(closed.stdout.trim()).toBe('ECONNREFUSED');

      // The firewall's drop rule is really in the path.
      await lab.nft(statefulRuleset(`tcp dport ${port} drop`));
      const dropped = await lab.exec('client', connectScript(lab.addr.server, port, 500), { timeoutMs: 10_000 });
      expect(dropped.stdout.trim()).toBe('TIMEOUT');

      // Forwarding is on in the firewall namespace only.
      const fwd = await lab.exec('firewall', ['sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward']);
      expect(fwd.stdout.trim()).toBe('1');
      const cfwd = await lab.exec('client', ['sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward']);
      expect(cfwd.stdout.trim()).toBe('0');

      const serverPid = server.pid!;
      await lab.destroy();
      destroyed = true;
      const after = namespaces();
      for (const n of Object.values(lab.names)) expect(after).not.toContain(n);
      await new Promise((r) => setTimeout(r, 100));
      expect(() => process.kill(serverPid, 0)).toThrow();
      await lab.destroy(); // idempotent
    } finally {
      if (!destroyed) await lab.destroy();
    }
  });

  it('sets sysctls inside one namespace only', async () => {
    const lab = await createLab({ fwSysctls: { 'net.netfilter.nf_conntrack_udp_timeout': '7' } });
    try {
      await lab.sysctl('server', 'net.ipv4.icmp_ratelimit', '0');
      const s = await lab.exec('server', ['cat', '/proc/sys/net/ipv4/icmp_ratelimit']);
      const c = await lab.exec('client', ['cat', '/proc/sys/net/ipv4/icmp_ratelimit']);
      expect(s.stdout.trim()).toBe('0');
      expect(c.stdout.trim()).not.toBe('0');
      const f = await lab.exec('firewall', ['cat', '/proc/sys/net/netfilter/nf_conntrack_udp_timeout']);
      expect(f.stdout.trim()).toBe('7');
    } finally {
      await lab.destroy();
    }
  });

  it('with a router: four namespaces, the server beyond a second hop, nft in the router, all torn down', async () => {
    const lab = await createLab({ router: true, ruleset: statefulRuleset() });
    let destroyed = false;
    try {
      expect(lab.names.router).toBeDefined();
      for (const n of Object.values(lab.names)) expect(namespaces()).toContain(n);
      expect(lab.addr).toMatchObject({ fwServer: '192.0.2.2', routerFw: '192.0.2.1', routerServer: '198.51.100.1', server: '198.51.100.2' });
      const server = lab.spawn('server', [process.execPath, SERVE, JSON.stringify({ host: lab.addr.server, tcp: [0] })]);
      const port = (await waitReady(server)).tcp[0]!;
      const open = await lab.exec('client', connectScript(lab.addr.server, port, 3000), { timeoutMs: 10_000 });
      expect(open.stdout.trim()).toBe('ok');
      // The router forwards, and its own ruleset is in the path (beyond the customer's firewall).
      const fwd = await lab.exec('router', ['cat', '/proc/sys/net/ipv4/ip_forward']);
      expect(fwd.stdout.trim()).toBe('1');
      await lab.nft(`table inet r {\n chain forward {\n type filter hook forward priority filter;\n tcp dport ${port} drop\n }\n}`, 'router');
      const dropped = await lab.exec('client', connectScript(lab.addr.server, port, 500), { timeoutMs: 10_000 });
      expect(dropped.stdout.trim()).toBe('TIMEOUT');
      await lab.destroy();
      destroyed = true;
      for (const n of Object.values(lab.names)) expect(namespaces()).not.toContain(n);
    } finally {
      if (!destroyed) await lab.destroy();
    }
  });

  it('a lab without a router refuses router commands', async () => {
    const lab = await createLab();
    try {
      await expect(lab.nft('table inet r {}', 'router')).rejects.toThrow(/unknown namespace role/);
    } finally {
      await lab.destroy();
    }
  });

  it('rejects a bad ruleset with nft\'s message and removes the half-built lab', async () => {
    await expect(createLab({ prefix: `ncbad${process.pid}`, ruleset: 'table inet x { chain y { nonsense } }' })).rejects.toThrow(/nft/);
    expect(namespaces().filter((n) => n.startsWith(`ncbad${process.pid}`))).toEqual([]);
  });
});
