/** `--ip-ranges FILE` / `--fetch-ip-ranges`: Amazon's ip-ranges.json for catalogs and `match`. */
import { loadAwsIpRanges, type AwsIpRanges } from '../catalog/awsIpRanges.js';
import { UsageError } from '../errors.js';

/**
 * The ip-ranges list the user asked for, if any. `--fetch-ip-ranges` downloads (or reuses a
 * day-old cached copy); it is never implied, so planning and tests stay offline.
 */
export async function ipRangesFromArgv(argv: Record<string, unknown>): Promise<AwsIpRanges | undefined> {
  const file = argv['ip-ranges'];
  const fetchIt = argv['fetch-ip-ranges'] === true;
  if (file !== undefined && fetchIt) {
    throw new UsageError('--ip-ranges and --fetch-ip-ranges contradict each other; use one (e.g. --ip-ranges ./ip-ranges.json)');
  }
  if (typeof file === 'string') return loadAwsIpRanges(file);
  if (file !== undefined) throw new UsageError('--ip-ranges needs a file (e.g. --ip-ranges ./ip-ranges.json)');
  if (fetchIt) {
    const { fetchAwsIpRanges } = await import('../catalog/awsFetch.js');
    return fetchAwsIpRanges();
  }
  return undefined;
}
