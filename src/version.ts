import { readFileSync } from 'node:fs';

let cached: string | undefined;
/** netcheck's version, read from package.json next to dist/. */
export function version(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
