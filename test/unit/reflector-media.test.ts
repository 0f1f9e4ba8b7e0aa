/**
 * The reflector's media sessions and NAT filtering test (issue 17), attacked with real sockets on
 * 127.0.0.1: no reply larger than its request, sessions bound to the source that proved it
 * receives there (and to the secret), each session held to its declared rate, the general limit
 * for everyone else; and the prober end to end against it.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeMediaPacket, encodeMediaPacket, Rfc3550Jitter } from '../../src/media/packet.js';
import { estimateMos, mosFromR, rFactor } from '../../src/media/quality.js';
import { judge, type MediaData } from '../../src/probers/media.js';
import { REFLECTOR_DEFAULTS, encode, mediaMac, parse, type Message } from '../../src/reflector/protocol.js';
import { startReflector, type Reflector, type ReflectorOptions } from '../../src/reflector/server.js';
import { runCli } from '../helpers/cli.js';
import { needTools } from '../helpers/tools.js';

const open: Reflector[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

async function reflector(o: ReflectorOptions = {}): Promise<Reflector> {
  const r = await startReflector({ tcpPorts: [0], udpPorts: [0, 0], ...o });
  open.push(r);
  return r;
}

interface Client {
  s: UdpSocket;
  got: { b: Buffer; port: number }[];
  close: () => void;
}

/** An unconnected UDP client (so it can also hear a reply from another port). */
async function udpClient(): Promise<Client> {
  const s = createSocket('udp4');
  const got: Client['got'] = [];
  s.on('message', (b, r) => got.push({ b, port: r.port }));
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { s, got, close: () => s.close() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function exchange(c: Client, port: number, buf: Buffer, waitMs = 150): Promise<Client['got']> {
  const before = c.got.length;
  c.s.send(buf, port, '127.0.0.1');
  await sleep(waitMs);
  return c.got.slice(before);
}

function msg(b: Buffer | undefined): Message {
  const m = b ? parse(b) : { error: 'syntax' as const };
  if ('error' in m) throw new Error(`not an NCR1 message: ${b?.toString()}`);
  return m;
}

async function token(c: Client, port: number): Promise<string> {
  const [r] = await exchange(c, port, encode('HELLO', { n: 'abc' }, REFLECTOR_DEFAULTS.helloPadBytes));
  return msg(r?.b).fields.t!;
}

const PAD = REFLECTOR_DEFAULTS.mediaPadBytes;

async function openSession(c: Client, port: number, f: { pps?: number; dur?: number; size?: number; secret?: string } = {}): Promise<{ sid: Buffer; t: string; reply: Message }> {
  const t = await token(c, port);
  const sid = randomBytes(8);
  const id = sid.toString('hex');
  const pps = f.pps ?? 50;
  const dur = f.dur ?? 2000;
  const size = f.size ?? 172;
  const fields: Record<string, string | number> = { t, id, pps, dur, size };
  if (f.secret) fields.mac = mediaMac(f.secret, t, id, pps, dur, size);
  const [r] = await exchange(c, port, encode('MEDIA', fields, PAD));
  return { sid, t, reply: msg(r?.b) };
}

describe('reflector media sessions: a request sent again', () => {
  it('a MEDIA sent again (its MEDIAOK lost on the way down) is answered MEDIAOK again and opens nothing more; other parameters are still a duplicate', async () => {
    const r = await reflector();
    const c = await udpClient();
    const port = r.udp[0]!;
    try {
      const { sid, t, reply: first } = await openSession(c, port, { dur: 2000 });
      const id = sid.toString('hex');
      // The client never saw that MEDIAOK (dropped on the way down) and sends the same request again.
      const [again] = await exchange(c, port, encode('MEDIA', { t, id, pps: 50, dur: 2000, size: 172 }, PAD));
      expect([first.verb, msg(again?.b).verb]).toEqual(['MEDIAOK', 'MEDIAOK']);
      expect(msg(again?.b).fields.id).toBe(id);
      expect(r.stats().mediaSessions).toBe(1);
      expect(r.stats().refused.dup ?? 0).toBe(0);
      const [other] = await exchange(c, port, encode('MEDIA', { t, id, pps: 50, dur: 3000, size: 172 }, PAD));
      expect(msg(other?.b).fields.code).toBe('dup');
    } finally {
      c.close();
    }
  });
});

describe('reflector media sessions: safety', () => {
  it('every reply is no larger than its request; an echo is exactly as long as the datagram', async () => {
    const r = await reflector();
    const c = await udpClient();
    const port = r.udp[0]!;
    try {
      const t = await token(c, port);
      const id = randomBytes(8).toString('hex');
      const check = async (requests: Buffer[]): Promise<void> => {
        for (const req of requests) {
          const replies = await exchange(c, port, req, 80);
          for (const rep of replies) expect(rep.b.length, `reply to ${req.toString('latin1').slice(0, 30)}`).toBeLessThanOrEqual(req.length);
        }
      };
      await check([
        Buffer.from(`NCR1 MEDIA t=${t} id=${id} pps=50 dur=1000 size=172`), // unpadded
        encode('MEDIA', { t, id, pps: 50, dur: 2000, size: 172 }, PAD), // same id, other duration
        encode('MEDIA', { t: 'forged.token', id, pps: 50, dur: 1000, size: 172 }, PAD),
        encode('MEDIA', { t, id: randomBytes(8).toString('hex'), pps: 5000, dur: 1000, size: 172 }, PAD),
      ]);
      const sid = Buffer.from(id, 'hex');
      const pkt = encodeMediaPacket(sid, 0, 1234.5, 172);
      const [echo] = await exchange(c, port, pkt);
      expect(echo!.b.length).toBe(172);
      // Only the reflector's stamp (bytes 24-35) differs.
      expect(echo!.b.subarray(0, 24).equals(pkt.subarray(0, 24))).toBe(true);
      expect(echo!.b.subarray(36).equals(pkt.subarray(36))).toBe(true);
      expect(decodeMediaPacket(echo!.b).reflectorRx).toBe(1);
      await check([
        Buffer.from(`NCR1 MSTAT t=${t} id=${id}`),
        encode('MSTAT', { t, id }, PAD),
        encode('NATF', { t, via: r.udp[1]! }, PAD),
        encode('NATF', { t, via: 1 }, PAD),
        Buffer.from(`NCR1 NATF t=${t} via=${r.udp[1]}`),
      ]);
      // The unpadded MSTAT was not answered (its MSTATS would be larger); the unpadded MEDIA was
      // small enough for its MEDIAOK, so the padded one with the same id and another duration is a
      // duplicate.
      expect(r.stats().suppressed).toBeGreaterThanOrEqual(1);
      expect(r.stats().mediaSessions).toBe(1);
      expect(r.stats().refused.dup).toBe(1);
      expect(r.stats().refused.token).toBe(1);
      expect(r.stats().refused.media).toBe(1);
      expect(r.stats().refused.port).toBe(1);
    } finally {
      c.close();
    }
  });

  it('a session belongs to the source address:port that opened it; any other source gets the general rate limit', async () => {
    const r = await reflector();
    const port = r.udp[0]!;
    const owner = await udpClient();
    const other = await udpClient();
    try {
      const { sid, reply } = await openSession(owner, port, { pps: 1000, dur: 2000 });
      expect(reply.verb).toBe('MEDIAOK');
      // The other socket copies the session id: its 200 datagrams are plain echoes, held to the
      // general limit (burst 40 messages per source address... which the owner shares on loopback).
      for (let i = 0; i < 200; i++) other.s.send(encodeMediaPacket(sid, i, 0, 172), port, '127.0.0.1');
      await sleep(300);
      expect(other.got.length).toBeLessThanOrEqual(REFLECTOR_DEFAULTS.rateBurst);
      expect(r.stats().mediaEchoed).toBe(0);
      // A token issued to one socket does not open a session for another.
      const t = await token(owner, port);
      const [refused] = await exchange(other, port, encode('MEDIA', { t, id: randomBytes(8).toString('hex'), pps: 50, dur: 1000, size: 172 }, PAD));
      expect(msg(refused?.b).fields.code).toBe('token');
    } finally {
      owner.close();
      other.close();
    }
  });

  it('a session is held to its declared rate (25 % headroom): a flood is cut and counted', async () => {
    const r = await reflector();
    const port = r.udp[0]!;
    const c = await udpClient();
    try {
      const { sid, t } = await openSession(c, port, { pps: 50, dur: 5000 });
      for (let i = 0; i < 400; i++) c.s.send(encodeMediaPacket(sid, i, 0, 172), port, '127.0.0.1');
      await sleep(300);
      const echoes = c.got.filter((g) => g.b.length === 172).length;
      // Burst max(10, pps/2) = 25, plus what 300 ms at 62.5/s refills.
      expect(echoes).toBeGreaterThan(10);
      expect(echoes).toBeLessThanOrEqual(25 + 25);
      const [st] = await exchange(c, port, encode('MSTAT', { t, id: sid.toString('hex') }, PAD));
      const m = msg(st?.b);
      expect(m.verb).toBe('MSTATS');
      // Loopback's socket buffer may lose part of a 400-datagram burst before the reflector reads it.
      expect(Number(m.fields.drop)).toBeGreaterThan(100);
      expect(Number(m.fields.echo)).toBe(echoes);
      expect(Number(m.fields.echo) + Number(m.fields.drop)).toBeLessThanOrEqual(400);
      // Held back is not lost on the way up: it arrived, and counts as received.
      expect(Number(m.fields.rx)).toBe(Number(m.fields.echo) + Number(m.fields.drop));
    } finally {
      c.close();
    }
  });

  it('with a secret, MEDIA needs the HMAC of every parameter', async () => {
    const secret = 's3cret-media';
    const r = await reflector({ secret });
    const port = r.udp[0]!;
    const c = await udpClient();
    try {
      expect((await openSession(c, port)).reply.fields.code).toBe('auth');
      // A MAC for another rate does not open this one.
      const t = await token(c, port);
      const id = randomBytes(8).toString('hex');
      const [bad] = await exchange(c, port, encode('MEDIA', { t, id, pps: 100, dur: 2000, size: 172, mac: mediaMac(secret, t, id, 50, 2000, 172) }, PAD));
      expect(msg(bad?.b).fields.code).toBe('auth');
      expect((await openSession(c, port, { secret })).reply.verb).toBe('MEDIAOK');
    } finally {
      c.close();
    }
  });

  it('limits: rate, size, duration, bytes/s and sessions per source; media and NATF only over UDP', async () => {
    const r = await reflector({ mediaSessionsPerSource: 2 });
    const port = r.udp[0]!;
    const c = await udpClient();
    try {
      expect((await openSession(c, port, { pps: REFLECTOR_DEFAULTS.mediaMaxPps + 1 })).reply.fields.code).toBe('media');
      expect((await openSession(c, port, { size: 2000 })).reply.fields.code).toBe('media');
      expect((await openSession(c, port, { dur: REFLECTOR_DEFAULTS.mediaMaxMs + 1 })).reply.fields.code).toBe('media');
      expect((await openSession(c, port, { pps: 1000, size: 1400 })).reply.fields.code).toBe('media');
      expect((await openSession(c, port)).reply.verb).toBe('MEDIAOK');
      expect((await openSession(c, port)).reply.verb).toBe('MEDIAOK');
      expect((await openSession(c, port)).reply.fields.code).toBe('flows');
      const s = connect(r.tcp[0]!, '127.0.0.1');
      const line = await new Promise<string>((resolve) => {
        let buf = '';
        s.on('data', (d) => {
          buf += d;
          if (buf.includes('\n')) resolve(buf);
        });
        s.on('connect', () => s.write(encode('MEDIA', { t: 'x.y', id: '0123456789abcdef', pps: 50, dur: 1000, size: 172 }, PAD, true)));
      });
      s.destroy();
      expect(msg(Buffer.from(line)).fields.code).toBe('verb');
    } finally {
      c.close();
    }
  });

  it('MSTAT ends a session: its share of the per-source limits is free at once, its datagrams are plain echoes', async () => {
    const r = await reflector({ mediaSessionsPerSource: 1 });
    const port = r.udp[0]!;
    const c = await udpClient();
    try {
      const a = await openSession(c, port, { dur: 60_000 });
      expect(a.reply.verb).toBe('MEDIAOK');
      expect((await openSession(c, port)).reply.fields.code).toBe('flows');
      const [st] = await exchange(c, port, encode('MSTAT', { t: a.t, id: a.sid.toString('hex') }, PAD));
      expect(msg(st?.b).verb).toBe('MSTATS');
      expect((await openSession(c, port)).reply.verb).toBe('MEDIAOK');
      await exchange(c, port, encodeMediaPacket(a.sid, 0, 0, 172));
      expect(r.stats().mediaEchoed).toBe(0);
    } finally {
      c.close();
    }
  });

  it('NATF answers from the other port, to the source that asked', async () => {
    const r = await reflector();
    const c = await udpClient();
    try {
      const t = await token(c, r.udp[0]!);
      const replies = await exchange(c, r.udp[0]!, encode('NATF', { t, via: r.udp[1]! }, PAD));
      expect(replies).toHaveLength(1);
      expect(replies[0]!.port).toBe(r.udp[1]);
      expect(msg(replies[0]!.b)).toMatchObject({ verb: 'NATFOK', fields: { via: String(r.udp[1]), to: String(r.udp[0]) } });
    } finally {
      c.close();
    }
  });
});

describe('media quality figures', () => {
  it('RFC 3550 jitter: constant transit gives 0, alternating 10 ms converges towards 10', () => {
    const j = new Rfc3550Jitter();
    for (let i = 0; i < 50; i++) j.add(i * 20, i * 20 + 5);
    expect(j.jitter).toBe(0);
    const k = new Rfc3550Jitter();
    for (let i = 0; i < 200; i++) k.add(i * 20, i * 20 + (i % 2 ? 10 : 0));
    expect(k.jitter).toBeGreaterThan(9.9);
    expect(k.jitter).toBeLessThanOrEqual(10);
  });

  it('E-model: G.711 on a clean LAN ≈ 4.4; loss and delay lower it as G.107 says', () => {
    expect(estimateMos(1, 0, 0).mos).toBeCloseTo(4.4, 1);
    // 5 % random loss with PLC: Ie,eff = 95·5/(5+25.1) ≈ 15.8 → R ≈ 76.9.
    expect(rFactor(20.5, 5)).toBeCloseTo(93.2 - 0.024 * 20.5 - (95 * 5) / 30.1, 5);
    expect(estimateMos(1, 0, 5).mos).toBeCloseTo(3.9, 1);
    // Past 177.3 ms one way the delay impairment steepens.
    expect(rFactor(300, 0)).toBeCloseTo(93.2 - 0.024 * 300 - 0.11 * (300 - 177.3), 5);
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(100)).toBe(4.5);
  });

  it('judges loss first, then RTT, then jitter; per direction when the reflector answered', () => {
    const o = { pps: 50, size: 172, durationMs: 1000, setupMs: 1000, maxLossPct: 1, maxRttMs: 100, maxJitterMs: 30 };
    const base = { sent: 100, received: 95, rtts: Array(95).fill(20), downJitter: 1, rtJitter: 1, dupRt: 0, oooRt: 0, stopped: false };
    const lossUp = judge(o, { ...base, mstats: { rx: '95', dup: '0', ooo: '0', echo: '95', drop: '0', jit: '500' } }, '10.0.0.1');
    expect([lossUp.status, lossUp.reason]).toEqual(['filtered', 'MEDIA_LOSS']);
    expect((lossUp.data as unknown as MediaData).lossPct).toEqual({ up: 5, down: 0, roundTrip: 5 });
    const slow = judge(o, { ...base, received: 100, rtts: Array(100).fill(150), mstats: { rx: '100', dup: '0', ooo: '0', echo: '100', drop: '0', jit: '500' } }, '10.0.0.1');
    expect([slow.status, slow.reason]).toEqual(['timeout', 'MEDIA_RTT']);
    const noCounters = judge(o, { ...base, received: 100, rtts: Array(100).fill(10) }, '10.0.0.1');
    expect((noCounters.data as unknown as MediaData).perDirection).toBe(false);
    expect(noCounters.status).toBe('ok');
  });
});

describe('netcheck media against a loopback reflector', () => {
  it('streams, reads the counters, reports per direction (exit 0); bad options are usage errors', async () => {
    const r = await reflector();
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-media-'));
    const prom = join(dir, 'media.prom');
    const res = await runCli(['media', '--reflector', '127.0.0.1', '--udp-port', String(r.udp[0]), '--nat-port', String(r.udp[1]), '--pps', '200', '--duration', '500ms', '--json', '--quiet', '--prometheus-textfile', prom], { env: { HTTPS_PROXY: '', HTTP_PROXY: '', ALL_PROXY: '' } });
    // The figures as daemon/textfile metrics, per direction, in a form promtool accepts.
    const text = readFileSync(prom, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    expect(text).toMatch(/^netcheck_media_loss_ratio\{catalog="media",line="media",target="127\.0\.0\.1:\d+",direction="up"\} 0$/m);
    expect(text).toMatch(/^netcheck_media_jitter_seconds\{catalog="media",line="media",target="127\.0\.0\.1:\d+",direction="down"\} [\d.e-]+$/m);
    expect(text).toMatch(/^netcheck_media_mos\{catalog="media",line="media",target="127\.0\.0\.1:\d+"\} 4\.\d+$/m);
    expect(text).toMatch(/^netcheck_nat_info\{catalog="media",line="nat",target="127\.0\.0\.1:\d+",mapping="none",filtering="none",needs_relay="false"\} 1$/m);
    const promtool = needTools('the promtool check of media metrics', ['promtool'])?.promtool;
    if (promtool) {
      const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
    }
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as { probes: { kind: string; status: string; data: Record<string, unknown> }[] };
    const m = report.probes.find((p) => p.kind === 'media')!;
    expect(m.status).toBe('ok');
    expect(m.data).toMatchObject({ perDirection: true, sent: 100, received: 100, lossPct: { up: 0, down: 0, roundTrip: 0 } });
    expect(report.probes.find((p) => p.kind === 'nat')!.data).toMatchObject({ mapping: 'none' });
    for (const bad of [['--pps', '0'], ['--duration', '10'], ['--bogus', '1']]) {
      const b = await runCli(['media', '--reflector', '127.0.0.1', ...bad]);
      expect(b.code, bad.join(' ')).toBe(2);
      expect(b.stderr).not.toMatch(/at .*\.js:\d+/);
    }
  });
});

describe('catalog kinds media and nat', () => {
  it('a catalog line checks voice quality and the NAT against a reflector; plan and allowlist treat them as UDP', async () => {
    const r = await reflector();
    const dir = mkdtempSync(join(tmpdir(), 'netcheck-media-cat-'));
    try {
      const file = join(dir, 'voice.yaml');
      writeFileSync(
        file,
        `schema: netcheck/catalog/v1
id: voice
title: Voice
source: test
sections:
  - id: media
    name: Media
    lines:
      - id: audio
        description: Audio through the reflector
        targets: [127.0.0.1]
        ports: ${r.udp[0]}
        checks: [{ kind: media, pps: 100, duration: 500ms, maxRtt: 200ms }, { kind: nat, altPort: ${r.udp[1]} }]
`,
      );
      const env = { HTTPS_PROXY: '', HTTP_PROXY: '', ALL_PROXY: '' };
      const run = await runCli(['run', '--catalog', file, '--no-control', '--json', '--quiet'], { env });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { lines: { verdict: string; reason: string }[]; probes: { kind: string; data: MediaData }[] };
      expect(report.lines[0]!.verdict).toBe('pass');
      expect(report.lines[0]!.reason).toMatch(/MOS 4\.\d+ \(excellent\); no NAT/);
      expect(report.probes.find((p) => p.kind === 'media')!.data).toMatchObject({ sent: 50, thresholds: { maxRttMs: 200, maxLossPct: 1, maxJitterMs: 30 } });
      const plan = await runCli(['plan', file, '--json']);
      const probes = JSON.parse(plan.stdout) as { kind: string; timeoutMs: number }[];
      // Set-up (3 × 3 s), the stream, the drain, slack: not the 3 s default.
      expect(probes.find((p) => p.kind === 'media')!.timeoutMs).toBe(3 * 3000 + 500 + 3000 + 5000);
      const allow = await runCli(['allowlist', file, '--format', 'csv']);
      expect(allow.stdout).toMatch(/udp/);
      expect(allow.stdout).not.toMatch(/,tcp,/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('netcheck media: Ctrl-C', () => {
  it('stops the stream, reads the counters and writes what was measured (exit 130)', async () => {
    const r = await reflector();
    const res = await runCli(['media', '--reflector', '127.0.0.1', '--udp-port', String(r.udp[0]), '--duration', '60s', '--json'], {
      signalOnStderr: /session open, streaming/,
      env: { HTTPS_PROXY: '', HTTP_PROXY: '', ALL_PROXY: '' },
    });
    expect(res.code).toBe(130);
    const report = JSON.parse(res.stdout) as { interrupted: boolean; probes: { data: MediaData }[] };
    expect(report.interrupted).toBe(true);
    const d = report.probes[0]!.data;
    expect(d.stopped).toBe(true);
    expect(d.sent).toBeLessThan(3000);
    // What was sent was counted both ways: the reflector's counters came back.
    expect(d.perDirection).toBe(true);
    expect(d.reflector!.received).toBe(d.sent);
  });
});
