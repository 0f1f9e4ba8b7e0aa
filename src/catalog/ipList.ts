/**
 * Address-list files given as catalog parameters (type `file`): one IPv4/IPv6 address or CIDR range
 * per line; `#` starts a comment; blank lines are ignored. Commas and whitespace also separate
 * entries, because such lists are often pasted from e-mails and spreadsheets.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseCidr } from '../util/ip.js';

import type { IpList, IpListEntry } from '../types.js';

export type { IpList, IpListEntry };

/** Read a list file; a bad entry is one UsageError naming the flag, file and line (exit 2). */
export function readIpList(param: string, file: string): IpList {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--${param}: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'NC_BAD_PARAM');
  }
  return parseIpList(param, file, text);
}

export function parseIpList(param: string, file: string, text: string): IpList {
  const entries: IpListEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const body = raw.replace(/#.*$/, '');
    for (const tok of body.split(/[\s,;]+/).filter(Boolean)) {
      try {
        entries.push({ value: parseCidr(tok).text, line: i + 1 });
      } catch (err) {
        throw new UsageError(`--${param} ${file}:${i + 1}: ${(err as Error).message}`, 'NC_BAD_PARAM');
      }
    }
  });
  if (entries.length === 0) throw new UsageError(`--${param} ${file}: the list holds no address (one address or CIDR range per line)`, 'NC_BAD_PARAM');
  return { param, file, entries };
}
