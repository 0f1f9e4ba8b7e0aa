import { readFileSync } from 'node:fs';
import { embedded } from './platform/embedded.js';

let cached: string | undefined;
/** netcheck's version: the executable's embedded one, else package.json's next to dist/. */
export function version(): string {
  cached ??= embedded()?.version ?? (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
