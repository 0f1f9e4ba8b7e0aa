import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogJsonSchema } from '../../src/catalog/schema.js';

describe('published catalog schema', () => {
  it('schema/catalog.schema.json is what `netcheck schema catalog` prints (regenerate with: node bin/netcheck.js schema catalog > schema/catalog.schema.json)', () => {
    const file = JSON.parse(readFileSync(new URL('../../schema/catalog.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(file).toEqual(catalogJsonSchema());
  });
});
