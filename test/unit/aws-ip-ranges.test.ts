/**
 * Amazon's ip-ranges.json handling: filtering by service and region, and the download cache.
 * Nothing here reaches Amazon: `fetch` is replaced by a guard that throws for the whole file, so a
 * mistake in a test can never download anything (the cache paths are what is exercised).
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAwsIpRanges } from '../../src/catalog/awsFetch.js';
import { filterAwsPrefixes, parseAwsIpRanges } from '../../src/catalog/awsIpRanges.js';
import { UsageError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'nc-aws-'));
const realFetch = globalThis.fetch;
let fetchCalls = 0;
beforeAll(() => {
  globalThis.fetch = (async () => {
    fetchCalls++;
    throw new Error('network access is forbidden in tests');
  }) as typeof fetch;
});
afterAll(() => {
  globalThis.fetch = realFetch;
  rmSync(tmp, { recursive: true, force: true });
});

const SAMPLE = JSON.stringify({
  syncToken: '1',
  createDate: '2026-11-20-12-00-00',
  prefixes: [
    { ip_prefix: '3.80.0.0/12', region: 'us-east-1', service: 'EC2', network_border_group: 'us-east-1' },
    { ip_prefix: '3.80.0.0/12', region: 'us-east-1', service: 'AMAZON', network_border_group: 'us-east-1' },
    { ip_prefix: '52.58.0.0/15', region: 'eu-central-1', service: 'EC2', network_border_group: 'eu-central-1' },
    { ip_prefix: '13.32.0.0/15', region: 'GLOBAL', service: 'CLOUDFRONT', network_border_group: 'GLOBAL' },
  ],
  ipv6_prefixes: [{ ipv6_prefix: '2600:9000::/28', region: 'GLOBAL', service: 'CLOUDFRONT', network_border_group: 'GLOBAL' }],
});

describe('ip-ranges.json', () => {
  it('filters by service and region; CloudFront GLOBAL prefixes count in every region', () => {
    const r = parseAwsIpRanges(SAMPLE, 'sample.json');
    expect(r.prefixes).toHaveLength(5);
    expect(filterAwsPrefixes(r, ['EC2']).map((p) => p.cidr)).toEqual(['3.80.0.0/12', '52.58.0.0/15']);
    expect(filterAwsPrefixes(r, ['EC2', 'CLOUDFRONT'], 'eu-central-1').map((p) => p.cidr)).toEqual(['52.58.0.0/15', '13.32.0.0/15', '2600:9000::/28']);
    // The same prefix under two services is listed once.
    expect(filterAwsPrefixes(r, ['EC2', 'AMAZON'], 'us-east-1').map((p) => p.cidr)).toEqual(['3.80.0.0/12']);
  });

  it('a fresh cached copy is used without any download', async () => {
    const cache = join(tmp, 'fresh', 'ip-ranges.json');
    mkdirSync(join(tmp, 'fresh'), { recursive: true });
    writeFileSync(cache, SAMPLE);
    const before = fetchCalls;
    const r = await fetchAwsIpRanges({ cacheFile: cache, log: () => undefined });
    expect(r.prefixes).toHaveLength(5);
    expect(fetchCalls).toBe(before);
  });

  it('a stale copy is refreshed when possible, and used with a warning when offline', async () => {
    const cache = join(tmp, 'stale.json');
    writeFileSync(cache, SAMPLE);
    const twoDaysAgo = new Date(Date.now() - 48 * 3600 * 1000);
    utimesSync(cache, twoDaysAgo, twoDaysAgo);
    const logs: string[] = [];
    const before = fetchCalls;
    const r = await fetchAwsIpRanges({ cacheFile: cache, log: (m) => logs.push(m) });
    expect(fetchCalls).toBe(before + 1);
    expect(r.prefixes).toHaveLength(5);
    expect(logs.join('\n')).toMatch(/could not refresh .*using the cached copy from 48 h ago/);
  });

  it('offline without a cache: a usage error saying what to do', async () => {
    await expect(fetchAwsIpRanges({ cacheFile: join(tmp, 'none', 'ip-ranges.json'), log: () => undefined })).rejects.toThrow(UsageError);
    await expect(fetchAwsIpRanges({ cacheFile: join(tmp, 'none', 'ip-ranges.json'), log: () => undefined })).rejects.toThrow(/pass --ip-ranges FILE/);
  });

  it('--ip-ranges and --fetch-ip-ranges together are refused (exit 2)', async () => {
    const r = await runCli(['plan', 'conversation-builder', '--hosting', 'aws', '--ip-ranges', 'x.json', '--fetch-ip-ranges']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ip-ranges and --fetch-ip-ranges contradict each other/);
  });
});
