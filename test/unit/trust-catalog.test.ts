/**
 * Catalog lines for the trust-path kinds: URL targets for ocsp/crl expand to one probe per URL
 * (host and port from the URL, the URL as an option); tls options pass through. Plan only: nothing is sent.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expandCatalog } from '../../src/catalog/expand.js';
import { parseCatalog } from '../../src/catalog/load.js';

const FILE = new URL('../fixtures/catalogs/valid-trust.yaml', import.meta.url).pathname;

describe('trust-path catalog lines', () => {
  it('URL targets become one probe per URL', () => {
    const plan = expandCatalog(parseCatalog(readFileSync(FILE, 'utf8'), 'valid-trust.yaml'), { params: {} });
    const crl = plan.probes.filter((p) => p.kind === 'crl');
    expect(crl.map((p) => [p.host, p.port, p.options.url, p.options.maxBytes])).toEqual([
      ['crl.example.com', 80, 'http://crl.example.com/ca.crl', 1048576],
      ['crl.example.net', 80, 'http://crl.example.net/', 1048576],
    ]);
    const ocsp = plan.probes.find((p) => p.kind === 'ocsp')!;
    expect(ocsp.id).toBe('ocsp/ocsp/http://ocsp.example.com/');
    const tls = plan.probes.filter((p) => p.kind === 'tls');
    expect(tls).toHaveLength(5);
    expect(tls[0]!.options).toEqual({ expectIssuers: ['DigiCert', 'Sectigo'], servername: 'www.example.com' });
    expect(tls.slice(1).every((p) => p.host.startsWith('2a03:6400:') && p.sampledFrom === '2a03:6400::/32')).toBe(true);
  });
});
