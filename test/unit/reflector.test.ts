/**
 * Reflector abuse tests: a real reflector on 127.0.0.1, attacked with real sockets. An
 * unregistered or badly signed request never gets a reply larger than itself and never causes a
 * send after a gap; the rate limit holds; malformed control messages are refused without a crash.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { REFLECTOR_DEFAULTS, armMac, encode, parse, type Message } from '../../src/reflector/protocol.js';
import { startReflector, type Reflector, type ReflectorOptions } from '../../src/reflector/server.js';
import { waitFor } from '../helpers/wait.js';

const open: Reflector[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

async function reflector(o: ReflectorOptions = {}): Promise<Reflector> {
  const r = await startReflector({ tcpPorts: [0], udpPorts: [0], wsPorts: [0], ...o });
  open.push(r);
  return r;
}

/** A connected UDP client that records every datagram it receives. */
async function udpClient(port: number): Promise<{ s: UdpSocket; got: Buffer[]; close: () => void }> {
  const s = createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.connect(port, '127.0.0.1', () => r()));
  return { s, got, close: () => s.close() };
}

let barrierSeq = 0;
/** Echoed markers sent by {@link barrier}, counted so assertions on `echoed` can leave them out. */
let barriers = 0;

/**
 * Wait until everything the reflector will ever send in answer to what `c` sent so far has
 * arrived, without sleeping: send a marker (plain data, which it echoes) and wait for it to come
 * back — the reflector handles one socket's datagrams in order, and loopback keeps their order.
 * While the source is rate limited the marker is dropped, so it is re-sent until one comes back.
 */
async function barrier(c: { s: UdpSocket; got: Buffer[] }): Promise<void> {
  const mark = Buffer.from(`barrier ${++barrierSeq}`);
  const found = (): boolean => c.got.some((b) => b.equals(mark));
  for (let i = 0; !found(); i++) {
    if (i > 200) throw new Error('barrier never echoed');
    c.s.send(mark);
    await waitFor('barrier echo', () => found() || undefined, 60, 2).catch(() => undefined);
  }
  barriers++;
  c.got.splice(c.got.findIndex((b) => b.equals(mark)), 1);
}

/**
 * Send one datagram, wait for `n` replies to arrive (a send after a gap takes the gap), then for
 * a barrier proving nothing else is on its way; returns every reply.
 */
async function exchange(c: { s: UdpSocket; got: Buffer[] }, buf: Buffer, n = 0): Promise<Buffer[]> {
  const before = c.got.length;
  c.s.send(buf);
  if (n > 0) await waitFor(`${n} replies`, () => c.got.length >= before + n || undefined, 5000, 2);
  await barrier(c);
  return c.got.slice(before);
}

function msg(b: Buffer | undefined): Message {
  const m = b ? parse(b) : { error: 'syntax' as const };
  if ('error' in m) throw new Error(`not an NCR1 message: ${b?.toString()}`);
  return m;
}

async function token(c: { s: UdpSocket; got: Buffer[] }): Promise<string> {
  const [r] = await exchange(c, encode('HELLO', { n: 'abc' }, REFLECTOR_DEFAULTS.helloPadBytes), 1);
  const m = msg(r);
  expect(m.verb).toBe('TOKEN');
  return m.fields.t!;
}

describe('reflector: no amplification', () => {
  it('never answers an unregistered, forged or malformed UDP request with more bytes than it had', async () => {
    const r = await reflector();
    const c = await udpClient(r.udp[0]!);
    try {
      const t = await token(c);
      const requests: Buffer[] = [
        Buffer.from('NCR1 HELLO'), // unpadded: the TOKEN reply would be larger, so nothing is sent
        Buffer.from('NCR1 HELLO n=1 pad=xxxxxxxxxxxxxxxxxxxx'),
        Buffer.from('NCR1 ARM t=bogus.token id=f1 gap=1000'),
        encode('ARM', { t: 'zzz.forgedforgedforgedforged', id: 'f1', gap: 100 }, 400),
        encode('ARM', { t, id: 'f1', gap: 'soon' }, 400),
        encode('ARM', { t, id: 'f1', gap: 99_999_999_999 }, 400),
        encode('ARM', { t, id: 'bad id!', gap: 100 }, 400),
        encode('BACK', { t, id: 'nosuch' }, 60),
        encode('WAKE', { id: 'f1' }, 10),
        encode('ARMED', { id: 'f1' }, 300),
        Buffer.from('NCR1 '),
        Buffer.from('NCR1 ARM t=a t=b'),
        Buffer.from('NCR1 ARM =x'),
        Buffer.concat([Buffer.from('NCR1 HELLO n='), Buffer.from([0xff, 0xfe, 0x00, 0x80])]),
        Buffer.from(`NCR1 HELLO n=${'a'.repeat(600)}`),
        Buffer.from('hello, echo'),
        Buffer.alloc(1),
      ];
      const echoedBefore = r.stats().echoed;
      const barriersBefore = barriers;
      for (const req of requests) {
        const replies = await exchange(c, req);
        for (const rep of replies) expect(rep.length, `reply to ${JSON.stringify(req.toString('latin1').slice(0, 40))}`).toBeLessThanOrEqual(req.length);
      }
      // The unpadded HELLO got nothing; the echo came back byte for byte.
      expect(r.stats().suppressed).toBeGreaterThan(0);
      expect(r.stats().echoed - echoedBefore - (barriers - barriersBefore)).toBe(2);
      expect(r.stats().flows).toBe(0);
      expect(r.stats().refused.token).toBe(2);
      expect(r.stats().refused.gap).toBe(2);
    } finally {
      c.close();
    }
  });

  it('keeps ARMED plus the send after the gap within the size of the ARM request', async () => {
    const r = await reflector();
    const c = await udpClient(r.udp[0]!);
    try {
      const t = await token(c);
      // Big enough for ARMED alone, not for ARMED + WAKE: the WAKE must not be sent.
      const probe = encode('ARMED', { id: 'f1', seen: `127.0.0.1:${c.s.address().port}` });
      const tight = encode('ARM', { t, id: 'f1', gap: 50 }, probe.length + 10);
      const suppressed = r.stats().suppressed;
      const from = c.got.length;
      await exchange(c, tight, 1);
      // The WAKE falls due after the 50 ms gap and is suppressed then: wait for that, not for time.
      await waitFor('the WAKE to be suppressed', () => r.stats().suppressed > suppressed || undefined, 5000, 5);
      await barrier(c);
      const got = c.got.slice(from);
      expect(got.map((b) => msg(b).verb)).toEqual(['ARMED']);
      const total = got.reduce((n, b) => n + b.length, 0);
      expect(total).toBeLessThanOrEqual(tight.length);
      // With room for both, both come, and together they still fit in the request.
      const roomy = encode('ARM', { t, id: 'f2', gap: 50 }, REFLECTOR_DEFAULTS.armPadBytes);
      const got2 = await exchange(c, roomy, 2);
      expect(got2.map((b) => msg(b).verb)).toEqual(['ARMED', 'WAKE']);
      expect(got2.reduce((n, b) => n + b.length, 0)).toBeLessThanOrEqual(roomy.length);
    } finally {
      c.close();
    }
  });

  it('sends after a gap only to the source its token was issued to', async () => {
    const r = await reflector();
    const a = await udpClient(r.udp[0]!);
    const b = await udpClient(r.udp[0]!);
    try {
      const t = await token(a);
      // b replays a's token (as a spoofer would, without being able to receive at a's address).
      const got = await exchange(b, encode('ARM', { t, id: 'f1', gap: 50 }, 400), 1);
      expect(got.map((x) => msg(x).fields.code)).toEqual(['token']);
      expect(a.got.length).toBe(1); // only its TOKEN
      expect(r.stats().wakesSent).toBe(0);
    } finally {
      a.close();
      b.close();
    }
  });

  it('with a shared secret, arms only flows with a valid HMAC', async () => {
    const secret = 'correct horse battery';
    const r = await reflector({ secret });
    const c = await udpClient(r.udp[0]!);
    try {
      const t = await token(c);
      const unsigned = await exchange(c, encode('ARM', { t, id: 'f1', gap: 50 }, 400), 1);
      expect(unsigned.map((x) => msg(x).fields.code)).toEqual(['auth']);
      const wrong = await exchange(c, encode('ARM', { t, id: 'f1', gap: 50, mac: armMac('wrong secret!', t, 'f1', 50) }, 400), 1);
      expect(wrong.map((x) => msg(x).fields.code)).toEqual(['auth']);
      // A MAC for another gap does not arm this one (the gap is signed).
      const replayed = await exchange(c, encode('ARM', { t, id: 'f1', gap: 60, mac: armMac(secret, t, 'f1', 50) }, 400), 1);
      expect(replayed.map((x) => msg(x).fields.code)).toEqual(['auth']);
      expect(r.stats().wakesSent).toBe(0);
      const good = await exchange(c, encode('ARM', { t, id: 'f1', gap: 50, mac: armMac(secret, t, 'f1', 50) }, 400), 2);
      expect(good.map((x) => msg(x).verb)).toEqual(['ARMED', 'WAKE']);
    } finally {
      c.close();
    }
  });
});

describe('reflector: limits', () => {
  it('holds the per-source rate limit', async () => {
    const r = await reflector({ ratePerSecond: 20, rateBurst: 40 });
    const c = await udpClient(r.udp[0]!);
    try {
      const t0 = performance.now();
      for (let i = 0; i < 300; i++) c.s.send(Buffer.from(`echo ${i}`));
      // Every datagram of the burst has been handled once a marker sent after it comes back.
      await barrier(c);
      const elapsedS = (performance.now() - t0) / 1000;
      // Burst of 40, then 20/s: with generous slack for a slow machine.
      expect(c.got.length).toBeGreaterThanOrEqual(40);
      expect(c.got.length).toBeLessThanOrEqual(40 + Math.ceil(20 * elapsedS) + 2);
      // The reflector's own count agrees (the kernel may drop some of a 300-datagram burst first).
      expect(r.stats().echoed).toBeLessThanOrEqual(40 + Math.ceil(20 * elapsedS) + 2);
      expect(r.stats().rateLimited).toBeGreaterThan(100);
    } finally {
      c.close();
    }
  });

  it('caps armed flows per source', async () => {
    const r = await reflector({ maxFlowsPerSource: 2 });
    const c = await udpClient(r.udp[0]!);
    try {
      const t = await token(c);
      const verbs: string[] = [];
      for (const id of ['a', 'b', 'c']) {
        const got = await exchange(c, encode('ARM', { t, id, gap: 60_000 }, 400), 1);
        verbs.push(got.map((x) => { const m = msg(x); return m.verb === 'ERR' ? `ERR:${m.fields.code}` : m.verb; }).join());
      }
      expect(verbs).toEqual(['ARMED', 'ARMED', 'ERR:flows']);
      const dup = await exchange(c, encode('ARM', { t, id: 'a', gap: 60_000 }, 400), 1);
      expect(msg(dup[0]).fields.code).toBe('dup');
    } finally {
      c.close();
    }
  });

  it('caps connections per source', async () => {
    const r = await reflector({ maxConnectionsPerSource: 3 });
    const socks: Socket[] = [];
    let closed = 0;
    try {
      for (let i = 0; i < 5; i++) {
        const s = connect(r.tcp[0]!, '127.0.0.1');
        s.on('error', () => undefined);
        s.once('close', () => closed++);
        socks.push(s);
        await new Promise((res) => s.once('connect', res));
      }
      // The reflector closes a connection over the cap as it accepts it: wait for those closes.
      await waitFor('2 refused connections', () => (r.stats().refused.flows === 2 && closed >= 2) || undefined, 5000, 5);
      // The other three are open: each still gets its echo.
      const open = socks.filter((x) => !x.destroyed && !x.readableEnded);
      for (const s of open) {
        const echo = new Promise<string>((res) => s.once('data', (d) => res(d.toString())));
        s.write('still here');
        expect(await echo).toBe('still here');
      }
      expect([open.length, closed]).toEqual([3, 2]);
    } finally {
      for (const s of socks) s.destroy();
    }
  });
});

describe('reflector: malformed control messages', () => {
  it('refuses them on TCP without crashing, and keeps serving', async () => {
    const r = await reflector();
    const lines = [
      'NCR1 NOPE x=1\n',
      'NCR1 ARM gap=-5\n',
      'NCR1 HELLO\x01\x02\n',
      `NCR1 HELLO ${'k=v '.repeat(200)}\n`,
      'NCR1 ARM t=1.2 t=1.2\n',
      'not a control line after control mode\n',
    ];
    const s = connect(r.tcp[0]!, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise((res) => s.once('connect', res));
    const got: Buffer[] = [];
    s.on('data', (d) => got.push(d));
    for (const l of lines) s.write(l);
    // A line longer than any message, with no newline: refused and the connection closed.
    s.write(`NCR1 HELLO pad=${'x'.repeat(2000)}`);
    await new Promise((res) => s.once('close', res));
    const text = Buffer.concat(got).toString();
    expect(text).not.toContain('TOKEN');
    expect(text.split('\n').filter(Boolean).every((l) => l.startsWith('NCR1 ERR code='))).toBe(true);
    expect(Object.values(r.stats().refused).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(5);

    // Still serving: a well-formed greeting on a new connection gets its token.
    const s2 = connect(r.tcp[0]!, '127.0.0.1');
    await new Promise((res) => s2.once('connect', res));
    s2.write(encode('HELLO', { n: '1' }, 160, true));
    const line = await new Promise<string>((res) => s2.once('data', (d) => res(d.toString())));
    expect(msg(Buffer.from(line)).verb).toBe('TOKEN');
    s2.destroy();
  });

  it('refuses them on WebSocket without crashing, and echoes only within size', async () => {
    const r = await reflector();
    const ws = new WebSocket(`ws://127.0.0.1:${r.ws[0]}${REFLECTOR_DEFAULTS.wsPath}`);
    await new Promise((res, rej) => {
      ws.once('open', res);
      ws.once('error', rej);
    });
    const got: { data: Buffer; binary: boolean }[] = [];
    ws.on('message', (data: Buffer, binary) => got.push({ data, binary }));
    const sent = ['NCR1 ARM', 'NCR1 ARM t=x id=y gap=z mac=w pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'NCR1 BOGUS'];
    for (const m of sent) ws.send(m);
    ws.send(Buffer.from('NCR1 HELLO as binary'), { binary: true }); // binary is data: echoed, never control
    // A marker after them: once it is echoed, every answer to what came before it has arrived.
    ws.send(Buffer.from('ws barrier'), { binary: true });
    await waitFor('the ws barrier', () => got.some((g) => g.data.toString() === 'ws barrier') || undefined, 5000, 5);
    for (const g of got) expect(g.data.length).toBeLessThanOrEqual(Math.max(...sent.map((x) => x.length), 20));
    expect(got.some((g) => g.binary && g.data.toString() === 'NCR1 HELLO as binary')).toBe(true);
    // A frame above the payload cap ends that connection (1009), not the reflector.
    const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
    ws.send(Buffer.alloc(200_000));
    expect(await closed).toBe(1009);
    const ws2 = new WebSocket(`ws://127.0.0.1:${r.ws[0]}${REFLECTOR_DEFAULTS.wsPath}`);
    await new Promise((res) => ws2.once('open', res));
    ws2.send(encode('HELLO', { n: '1' }, 160).toString());
    const first = await new Promise<Buffer>((res) => ws2.once('message', (d: Buffer) => res(d)));
    expect(msg(first).verb).toBe('TOKEN');
    ws2.terminate();
  });

  it('answers a plain HTTP request on the WebSocket port with fewer bytes than it had', async () => {
    const r = await reflector();
    const req = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const s = connect(r.ws[0]!, '127.0.0.1');
    await new Promise((res) => s.once('connect', res));
    const chunks: Buffer[] = [];
    s.on('data', (d) => chunks.push(d));
    s.write(req);
    await new Promise((res) => s.once('close', res));
    const reply = Buffer.concat(chunks);
    expect(reply.toString()).toMatch(/^HTTP\/1\.1 426/);
    expect(reply.length).toBeLessThanOrEqual(req.length);
  });
});
