// Writes README's table of reason codes from the registry (src/reasons.ts, built into dist/):
// `npm run build && node scripts/reasons-table.mjs`. test/unit/reasons.test.ts fails when the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { reasonsMarkdown } from '../dist/reasons.js';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const start = readme.search(/^\| reason \|/m);
if (start < 0) throw new Error("README.md has no table starting with '| reason |'");
const end = readme.indexOf('\n\n', start);
writeFileSync(file, readme.slice(0, start) + reasonsMarkdown() + readme.slice(end));
