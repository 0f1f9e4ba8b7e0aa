import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogJsonSchema } from '../../src/catalog/schema.js';

describe('published catalog schema', () => {
  it('schema/catalog.schema.json is what `netcheck schema catalog` prints (regenerate with: node bin/netcheck.js schema catalog > schema/catalog.schema.json)', () => {
    const file = JSON.parse(readFileSync(new URL('../../schema/catalog.schema.json', import.meta.url), 'utf8')) as unknown;
    expect(file).toEqual(catalogJsonSchema());
  });
});

describe('the document behind each built-in catalog (issue 16)', () => {
  it('names its title, publisher and the date it was seen; a URL only where it is public; every line quotes it', async () => {
    const { builtinNames, loadCatalog } = await import('../../src/catalog/builtin.js');
    for (const name of builtinNames()) {
      const def = loadCatalog(name).def;
      expect(def.document, name).toMatchObject({ title: expect.any(String), publisher: def.vendor, seen: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
      if (def.document!.url) expect(def.document!.url, name).toMatch(/^https:\/\//);
      for (const line of def.sections.flatMap((s) => s.lines)) expect(line.quote, `${name} ${line.id}`).toBeTruthy();
    }
  });
});
