/**
 * crl: is a CRL distribution point usable from here? Graded in levels, reported as `data.level`:
 *   1  a TCP connection (or proxy tunnel) to the server exists;
 *   2  it answered HTTP (not with a block page or a proxy error);
 *   3  the answer is a CRL that parses, is fresh (nextUpdate not passed) and, when the issuer is
 *      given, names that issuer and carries its valid signature.
 * Downloads stop at a size cap (`maxBytes`, default 20 MiB).
 */
// Static: this module is imported by the registry only for runs with crl probes, before any
// deadline starts, so the X.509 stack stays out of start-up and its import (over a second on a
// loaded machine) is never counted against a probe (it made a silent TLS peer read as a dropped
// SYN). Not a top-level await: the single-file executables are bundled as CommonJS.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type * as Pkijs from 'pkijs';
import { TRUST_LIMITS } from '../constants.js';
import { loadCertFile, pemOrDer, type LoadedCert } from '../trust/certfile.js';
import { fetchCapped } from '../trust/fetch.js';
import { parseUrlTarget } from '../trust/url.js';
import type { CrlOptions } from '../kinds/crl.js';
import type { Prober, ProbeOutcome } from '../types.js';
import { because } from '../reasons.js';


export const crl: Prober<CrlOptions> = async (spec, ctx) => {
  const u = spec.options.url !== undefined ? parseUrlTarget(spec.options.url) : { error: 'a crl probe needs a URL target' };
  if ('error' in u) return { ...because('BAD_URL'), detail: u.error, data: { level: 0 } };
  const maxBytes = spec.options.maxBytes ?? TRUST_LIMITS.crlMaxBytes;
  let issuer: LoadedCert | undefined;
  if (spec.options.issuer !== undefined) {
    const c = loadCertFile(spec.options.issuer);
    if ('error' in c) return { ...because('CERT_FILE_UNUSABLE'), detail: `issuer: ${c.error}`, data: { level: 0 } };
    issuer = c;
  }

  const r = await fetchCapped(spec, ctx, u, { method: 'GET', accept: 'application/pkix-crl, application/x-pkcs7-crl;q=0.9, */*;q=0.1', maxBytes });
  if (!r.ok) return { ...r.outcome, data: { url: u.url, ...r.outcome.data, level: r.level } };
  const base = { ...(r.address ? { address: r.address } : {}), phases: r.phases };
  const data: Record<string, unknown> = { url: u.url, ...r.data };
  const lvl2 = (o: Omit<ProbeOutcome, 'data'>, extra: Record<string, unknown> = {}): ProbeOutcome => ({ ...base, ...o, data: { ...data, ...extra, level: 2 } });

  if (r.statusCode !== 200) return lvl2({ ...because('CRL_HTTP_STATUS'), detail: `the server answered HTTP ${r.statusCode} instead of a CRL` });
  const der = pemOrDer(r.body, 'X509 CRL');
  let list: Pkijs.CertificateRevocationList | undefined;
  if (der && der.length) {
    const asn = asn1js.fromBER(new Uint8Array(der));
    if (asn.offset !== -1) {
      try {
        list = new pkijs.CertificateRevocationList({ schema: asn.result });
      } catch {
        list = undefined;
      }
    }
  }
  if (!list) return lvl2({ ...because('CRL_GARBAGE'), detail: `HTTP 200, but the ${r.body.length}-byte body is not a CRL` });

  const thisUpdate = list.thisUpdate.value;
  const nextUpdate = list.nextUpdate?.value;
  const crlNumber = list.crlExtensions?.extensions.find((e) => e.extnID === '2.5.29.20');
  const facts: Record<string, unknown> = {
    issuer: rdnText(list.issuer),
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate ? nextUpdate.toISOString() : null,
    revokedCount: list.revokedCertificates?.length ?? 0,
    ...(crlNumber?.parsedValue instanceof asn1js.Integer ? { crlNumber: crlNumber.parsedValue.valueBlock.valueDec } : {}),
    signatureVerified: null as boolean | null,
  };

  if (issuer) {
    if (!list.issuer.isEqual(issuer.pki.subject)) {
      return lvl2({ ...because('CRL_WRONG_ISSUER'), detail: `the CRL is issued by ${facts.issuer}, not by ${rdnText(issuer.pki.subject)}` }, facts);
    }
    let good = false;
    try {
      good = await list.verify({ issuerCertificate: issuer.pki });
    } catch {
      good = false;
    }
    facts.signatureVerified = good;
    if (!good) return lvl2({ ...because('CRL_BAD_SIGNATURE'), detail: `the CRL's signature does not verify with ${rdnText(issuer.pki.subject)}'s key` }, facts);
  }

  const now = Date.now();
  if (thisUpdate.getTime() > now + TRUST_LIMITS.clockSkewMs) {
    return lvl2({ ...because('CRL_NOT_YET_VALID'), detail: `thisUpdate ${thisUpdate.toISOString()} is in the future (check this machine's clock)` }, facts);
  }
  if (nextUpdate && nextUpdate.getTime() < now - TRUST_LIMITS.clockSkewMs) {
    return lvl2({ ...because('CRL_EXPIRED'), detail: `the CRL expired at ${nextUpdate.toISOString()} (nextUpdate): clients will treat revocation status as unknown` }, facts);
  }
  const signed = facts.signatureVerified ? `, signed by ${facts.issuer}` : ' (signature not checked: give the issuer to check it)';
  return {
    ...base,
    ...because('CRL_FRESH'),
    detail: `a fresh CRL of ${r.body.length} bytes, ${facts.revokedCount} revoked, next update ${facts.nextUpdate ?? 'not stated'}${signed}`,
    data: { ...data, ...facts, level: 3 },
  };
};

const ATTR: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C', '2.5.4.8': 'ST', '2.5.4.7': 'L', '1.2.840.113549.1.9.1': 'emailAddress' };

/** A distinguished name as `C=US, O=…, CN=…` (order as encoded). */
export function rdnText(rdn: Pkijs.RelativeDistinguishedNames): string {
  return rdn.typesAndValues
    .map((tv) => `${ATTR[tv.type] ?? tv.type}=${String((tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value ?? '')}`)
    .join(', ');
}
