import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/util/duration.js';
import { cidrContains, expandCidr, formatPorts, parseCidr, parsePorts, sampleCidr } from '../../src/util/ip.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['3s', 3000],
    ['1.5s', 1500],
    ['12m', 720_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
  ])('%s = %d ms', (t, v) => expect(parseDuration(t)).toBe(v));
  it.each(['3', '', 's', '3 s', '3sec'])('refuses %j', (t) => expect(() => parseDuration(t)).toThrow(/not a duration/));
  it('says a negative duration is negative (issue 11)', () => expect(() => parseDuration('-1s', '--timeout')).toThrow(/^--timeout: '-1s' is negative/));
  it('formats', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(720_000)).toBe('12m');
  });
});

describe('CIDR and ports', () => {
  it('parses v4 and v6 ranges and sizes', () => {
    expect(parseCidr('17.0.0.0/8').size).toBe(16_777_216n);
    expect(parseCidr('2a03:6400::/32').size).toBe(1n << 96n);
    expect(parseCidr('192.0.2.7').size).toBe(1n);
  });
  it('refuses host bits, bad prefixes and bad addresses', () => {
    expect(() => parseCidr('10.0.0.1/24')).toThrow(/did you mean 10.0.0.0\/24/);
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/prefix length/);
    expect(() => parseCidr('10.0.0.256')).toThrow(/not an IP/);
    expect(() => parseCidr('2a03:6400::/129')).toThrow(/prefix length/);
  });
  it('samples spread deterministically inside the usable range', () => {
    const c = parseCidr('17.0.0.0/8');
    const s = sampleCidr(c, 4);
    expect(s).toEqual(sampleCidr(c, 4));
    expect(s[0]).toBe('17.0.0.1');
    expect(s[3]).toBe('17.255.255.254');
    for (const a of s) expect(cidrContains(c, a)).toBe(true);
    const v6 = sampleCidr(parseCidr('2a03:6400::/32'), 3, 'random', 7);
    expect(v6).toHaveLength(3);
    for (const a of v6) expect(cidrContains(parseCidr('2a03:6400::/32'), a)).toBe(true);
  });
  it('expands with a cap', () => {
    expect(expandCidr(parseCidr('192.0.2.0/30'), 10)).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(() => expandCidr(parseCidr('10.0.0.0/8'), 65536)).toThrow(/more than the cap/);
  });
  it('parses and formats port lists', () => {
    expect(parsePorts('80,443')).toEqual([80, 443]);
    expect(parsePorts('4201-4264')).toHaveLength(64);
    expect(() => parsePorts('0')).toThrow(/out of range/);
    expect(() => parsePorts('65536')).toThrow(/out of range/);
    expect(() => parsePorts('10-5')).toThrow(/backwards/);
    expect(formatPorts([443, 80, 4201, 4202, 4203])).toBe('80,443,4201-4203');
  });
});
