/**
 * Fetching Amazon's ip-ranges.json from its published address, with a local cache. Only
 * `--fetch-ip-ranges` calls this: planning and tests never do, so no command reaches Amazon unless
 * the user asked for it.
 */
import { mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { AWS_IP_RANGES_URL, loadAwsIpRanges, parseAwsIpRanges, type AwsIpRanges } from './awsIpRanges.js';

/** Amazon updates the list several times a week; a day-old copy is fresh enough for a firewall check. */
export const AWS_CACHE_MAX_AGE_MS = 24 * 3600 * 1000;

/** Where the downloaded copy is kept: $XDG_CACHE_HOME/netcheck (or ~/.cache/netcheck). */
export function awsCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'netcheck', 'ip-ranges.json');
}

/**
 * The cached list when younger than a day; otherwise download it (validating before it replaces
 * the cache). Offline with a stale cache: the stale copy, with a warning on stderr.
 */
export async function fetchAwsIpRanges(opts: { cacheFile?: string; log?: (msg: string) => void; timeoutMs?: number } = {}): Promise<AwsIpRanges> {
  const file = opts.cacheFile ?? awsCacheFile();
  const log = opts.log ?? ((m: string) => process.stderr.write(`netcheck: ${m}\n`));
  let ageMs: number | undefined;
  try {
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch {
    ageMs = undefined;
  }
  if (ageMs !== undefined && ageMs < AWS_CACHE_MAX_AGE_MS) return loadAwsIpRanges(file);
  try {
    const res = await fetch(AWS_IP_RANGES_URL, { signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const text = await res.text();
    const parsed = parseAwsIpRanges(text, AWS_IP_RANGES_URL);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileAtomic(file, text);
    log(`downloaded ${AWS_IP_RANGES_URL} (${parsed.prefixes.length} prefixes), cached in ${file}`);
    return { ...parsed, file };
  } catch (err) {
    if (ageMs !== undefined) {
      log(`could not refresh ${AWS_IP_RANGES_URL} (${(err as Error).message}); using the cached copy from ${Math.round(ageMs / 3600_000)} h ago`);
      return loadAwsIpRanges(file);
    }
    throw new UsageError(
      `--fetch-ip-ranges: cannot download ${AWS_IP_RANGES_URL} (${(err as Error).message}) and there is no cached copy; download it elsewhere and pass --ip-ranges FILE`,
      'NC_IP_RANGES_FETCH',
    );
  }
}
