/**
 * A minimal authoritative DNS responder for the built-in demo lab: A/AAAA records from a map,
 * NXDOMAIN for any other name. Real DNS wire format (dns-packet), over UDP.
 * `node dist/lab/dnsd.js '{"host":"10.200.2.2","port":53,"records":{"portal.demo.test":["10.200.2.2"]}}'`
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import { isMainModule } from '../platform/embedded.js';

export interface DnsdSpec {
  host?: string;
  port?: number;
  records: Record<string, string[]>;
}

export async function startDnsd(spec: DnsdSpec): Promise<{ port: number; close(): Promise<void> }> {
  const host = spec.host ?? '127.0.0.1';
  const records = new Map(Object.entries(spec.records).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  const sock: Socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  sock.on('message', (msg, rinfo) => {
    let q: dnsPacket.Packet;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return; // not DNS: ignore, like a real server would
    }
    const question = q.questions?.[0];
    if (!question) return;
    const addrs = records.get(question.name.toLowerCase().replace(/\.$/, ''));
    const fam = question.type === 'A' ? 4 : question.type === 'AAAA' ? 6 : 0;
    const answers = (addrs ?? [])
      .filter((a) => isIP(a) === fam)
      .map((data) => ({ type: question.type as 'A' | 'AAAA', name: question.name, ttl: 60, class: 'IN' as const, data }));
    // RCODE 3 = NXDOMAIN; the AA flag (0x400) because this server is the authority for its names.
    const flags = 0x400 | dnsPacket.RECURSION_DESIRED | (addrs ? 0 : 3);
    sock.send(dnsPacket.encode({ id: q.id, type: 'response', flags, questions: q.questions ?? [], answers }), rinfo.port, rinfo.address);
  });
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(spec.port ?? 0, host, () => resolve());
  });
  return { port: sock.address().port, close: () => new Promise((r) => sock.close(() => r())) };
}

export const DNSD_JS = new URL(import.meta.url).pathname;

/** `node dnsd.js '<json>'` (or the bundle's hidden `__lab-dnsd '<json>'`): answer until SIGTERM. */
export function dnsdMain(arg: string | undefined): Promise<void> {
  return startDnsd(JSON.parse(arg ?? '{"records":{}}') as DnsdSpec)
    .then((d) => {
      process.stdout.write(`${JSON.stringify({ ready: true, port: d.port })}\n`);
      const stop = (): void => void d.close();
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    })
    .catch((e: unknown) => {
      process.stderr.write(`dnsd: ${(e as Error).message}\n`);
      process.exitCode = 1;
    });
}

if (isMainModule(import.meta.url)) void dnsdMain(process.argv[2]);
