/**
 * ocsp: is an OCSP responder usable from here? Graded in levels, each reported as `data.level`:
 *   1  a TCP connection (or proxy tunnel) to the responder exists;
 *   2  it answered HTTP with an OCSP response (not a block page or proxy error);
 *   3  a valid, signed, fresh answer about a real certificate (`cert` + `issuer`): good, revoked or unknown.
 * Without a certificate the probe asks about a made-up one: any signed-or-not OCSP answer (usually
 * `unauthorized`) proves level 2, and the outcome says level 3 needs a certificate.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
// Static: this module is imported by the registry only for runs with ocsp probes, before any
// deadline starts, so the X.509 stack stays out of start-up and its import (over a second on a
// loaded machine) is never counted against a probe (it made a silent TLS peer read as a dropped
// SYN). Not a top-level await: the single-file executables are bundled as CommonJS.
import * as asn1js from 'asn1js';
import type * as Asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type * as Pkijs from 'pkijs';
import { TRUST_LIMITS } from '../constants.js';
import { ab, loadCertFile, parseCert, type LoadedCert } from '../trust/certfile.js';
import { fetchPeerChain, parseHostPort } from '../trust/handshake.js';
import { fetchCapped } from '../trust/fetch.js';
import { parseUrlTarget } from '../trust/url.js';
import type { OcspOptions } from '../kinds/ocsp.js';
import type { Prober, ProbeOutcome } from '../types.js';
import { because } from '../reasons.js';


const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused)', 'sigRequired', 'unauthorized'];

export const ocsp: Prober<OcspOptions> = async (spec, ctx) => {
  const o = spec.options;
  const u = o.url !== undefined ? parseUrlTarget(o.url) : { error: 'an ocsp probe needs a URL target' };
  if ('error' in u) return { ...because('BAD_URL'), detail: u.error, data: { level: 0 } };
  const maxBytes = o.maxBytes ?? TRUST_LIMITS.ocspMaxBytes;

  let cert: LoadedCert | undefined;
  let issuer: LoadedCert | undefined;
  for (const k of ['cert', 'issuer'] as const) {
    const p = o[k];
    if (p === undefined) continue;
    const c = loadCertFile(p);
    if ('error' in c) return { ...because('CERT_FILE_UNUSABLE'), detail: `${k}: ${c.error}`, data: { level: 0 } };
    if (k === 'cert') cert = c;
    else issuer = c;
  }
  if (cert && !issuer) return { ...because('CERT_FILE_UNUSABLE'), detail: 'an OCSP question about a certificate needs its issuer too (issuer)', data: { level: 0 } };
  // certFrom: ask about the certificate a documented host presents (leaf + the issuer it sends).
  let certFrom: Record<string, unknown> | undefined;
  if (!cert && o.certFrom !== undefined) {
    const from = o.certFrom;
    // HOST[:PORT] is beyond the schema: the catalog loader and `--cert-from` check it; a spec built elsewhere may not be.
    const hp = parseHostPort(from);
    if (!hp) return { ...because('BAD_CERT_FROM'), detail: `certFrom '${from}' is not HOST[:PORT]`, data: { level: 0 } };
    const chain = await fetchPeerChain(hp.host, hp.port, spec, ctx);
    if (chain.ok && chain.ders.length >= 2) {
      cert = parseCert(chain.ders[0]!, `${from} leaf`);
      issuer = parseCert(chain.ders[1]!, `${from} issuer`);
      certFrom = { from, subject: cert.x509.subject.split('\n').join(', ') };
    } else {
      // Without a certificate the responder can still prove level 2; say why level 3 was out of reach.
      certFrom = { from, ...(chain.ok ? { error: 'the server sent no issuer certificate' } : { error: chain.outcome.reason, detail: chain.outcome.detail }) };
    }
  }

  // The request: about the real certificate (with a nonce, to rule out replayed answers), or about a made-up one.
  const nonce = randomBytes(16);
  const req = new pkijs.OCSPRequest();
  let certID: Pkijs.CertID;
  if (cert && issuer) {
    await req.createForCertificate(cert.pki, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer.pki });
    certID = req.tbsRequest.requestList[0]!.reqCert;
  } else {
    certID = new pkijs.CertID({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.3.14.3.2.26', algorithmParams: new asn1js.Null() }),
      issuerNameHash: new asn1js.OctetString({ valueHex: ab(createHash('sha1').update(randomBytes(16)).digest()) }),
      issuerKeyHash: new asn1js.OctetString({ valueHex: ab(createHash('sha1').update(randomBytes(16)).digest()) }),
      serialNumber: new asn1js.Integer({ value: 1 }),
    });
    req.tbsRequest.requestList = [new pkijs.Request({ reqCert: certID })];
  }
  req.tbsRequest.requestExtensions = [
    new pkijs.Extension({ extnID: OID_NONCE, extnValue: new asn1js.OctetString({ valueHex: ab(nonce) }).toBER(false) }),
  ];
  const body = Buffer.from(req.toSchema(true).toBER(false));

  const r = await fetchCapped(spec, ctx, u, { method: 'POST', body, contentType: 'application/ocsp-request', accept: 'application/ocsp-response', maxBytes });
  if (!r.ok) return { ...r.outcome, data: { url: u.url, ...r.outcome.data, ...(certFrom ? { certFrom } : {}), level: r.level } };
  const at = r.address ? { address: r.address } : {};
  const base = { ...at, phases: r.phases };
  const data: Record<string, unknown> = { url: u.url, ...r.data, ...(certFrom ? { certFrom } : {}) };
  const lvl2 = (o: Omit<ProbeOutcome, 'data'>, extra: Record<string, unknown> = {}): ProbeOutcome => ({ ...base, ...o, data: { ...data, ...extra, level: 2 } });

  if (r.statusCode !== 200) {
    return lvl2({ ...because('OCSP_HTTP_STATUS'), detail: `the responder answered HTTP ${r.statusCode} instead of an OCSP response` });
  }
  let resp: Pkijs.OCSPResponse;
  try {
    resp = pkijs.OCSPResponse.fromBER(ab(r.body));
  } catch {
    return lvl2({ ...because('OCSP_GARBAGE'), detail: `HTTP 200, but the ${r.body.length}-byte body is not an OCSP response` });
  }
  const rs = resp.responseStatus.valueBlock.valueDec;
  const rsName = RESPONSE_STATUS[rs] ?? `status ${rs}`;
  data.responseStatus = rsName;
  if (!cert || !issuer) {
    return lvl2({
      ...because('OCSP_RESPONDER_ANSWERED'),
      detail: `an OCSP responder answered (${rsName}); level 3 (a signed status of a real certificate) needs a certificate and its issuer${certFrom?.error ? ` (certFrom ${String(certFrom.from)}: ${String(certFrom.detail ?? certFrom.error)})` : ''}`,
    });
  }
  if (rs !== 0 || !resp.responseBytes) {
    return lvl2({ status: 'error', reason: `OCSP_${rsName.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, detail: `the responder refused to answer about this certificate (${rsName})` });
  }

  let basic: Pkijs.BasicOCSPResponse;
  try {
    basic = pkijs.BasicOCSPResponse.fromBER(resp.responseBytes.response.valueBlock.valueHexView);
  } catch {
    return lvl2({ ...because('OCSP_GARBAGE'), detail: 'the OCSP response does not hold a parseable basic response' });
  }
  const single = await findSingle(basic, certID);
  if (!single) return lvl2({ ...because('OCSP_CERTID_MISMATCH'), detail: 'the signed answer is not about the certificate asked for' });

  const thisUpdate = single.thisUpdate;
  const nextUpdate = single.nextUpdate;
  const facts: Record<string, unknown> = {
    thisUpdate: thisUpdate.toISOString(),
    nextUpdate: nextUpdate ? nextUpdate.toISOString() : null,
    producedAt: basic.tbsResponseData.producedAt.toISOString(),
  };
  const sig = await verifySignature(basic, issuer);
  facts.signatureVerified = sig.ok;
  if (sig.ok) facts.signer = sig.signer;
  if (!sig.ok) return lvl2({ ...because('OCSP_BAD_SIGNATURE'), detail: `the OCSP answer's signature does not check out: ${sig.why}` }, facts);

  const nonceState = checkNonce(basic, nonce);
  facts.nonce = nonceState;
  if (nonceState === 'mismatch') return lvl2({ ...because('OCSP_NONCE_MISMATCH'), detail: 'the answer carries a different nonce than the request: a replayed or cached answer' }, facts);

  const now = Date.now();
  if (thisUpdate.getTime() > now + TRUST_LIMITS.clockSkewMs) {
    return lvl2({ ...because('OCSP_NOT_YET_VALID'), detail: `thisUpdate ${thisUpdate.toISOString()} is in the future (check this machine's clock)` }, facts);
  }
  if (nextUpdate && nextUpdate.getTime() < now - TRUST_LIMITS.clockSkewMs) {
    return lvl2({ ...because('OCSP_STALE'), detail: `the answer expired at ${nextUpdate.toISOString()} (nextUpdate): a stale cache or a broken responder` }, facts);
  }

  const st = certStatusOf(single);
  const out: ProbeOutcome = { ...base, status: 'ok', reason: '', data: { ...data, ...facts, level: 3, certStatus: st.status, ...(st.revocationTime ? { revocationTime: st.revocationTime } : {}), ...(st.revocationReason !== undefined ? { revocationReason: st.revocationReason } : {}) } };
  const subject = cert.x509.subject.split('\n').join(', ');
  if (st.status === 'good') return { ...out, reason: 'OCSP_GOOD', detail: `signed answer: ${subject} is good (valid until ${nextUpdate?.toISOString() ?? 'the next request'})` };
  if (st.status === 'revoked') return { ...out, reason: 'OCSP_REVOKED', detail: `signed answer: ${subject} is REVOKED since ${st.revocationTime}` };
  return { ...out, reason: 'OCSP_UNKNOWN', detail: `signed answer: the responder does not know ${subject} (unknown)` };
};

async function findSingle(basic: Pkijs.BasicOCSPResponse, id: Pkijs.CertID): Promise<Pkijs.SingleResponse | undefined> {
  return basic.tbsResponseData.responses.find((s) => s.certID.isEqual(id));
}

function certStatusOf(s: Pkijs.SingleResponse): { status: 'good' | 'revoked' | 'unknown'; revocationTime?: string; revocationReason?: number } {
  const cs = s.certStatus as Asn1js.BaseBlock & { idBlock: { tagNumber: number }; valueBlock: { value?: Asn1js.BaseBlock[] } };
  switch (cs.idBlock.tagNumber) {
    case 0:
      return { status: 'good' };
    case 1: {
      const parts = cs.valueBlock.value ?? [];
      const t = parts[0] as Asn1js.GeneralizedTime | undefined;
      let reason: number | undefined;
      const r = parts[1] as (Asn1js.BaseBlock & { valueBlock: { value?: Asn1js.BaseBlock[] } }) | undefined;
      const inner = r?.valueBlock.value?.[0] as Asn1js.Enumerated | undefined;
      if (inner && 'valueDec' in inner.valueBlock) reason = inner.valueBlock.valueDec;
      return { status: 'revoked', ...(t && typeof t.toDate === 'function' ? { revocationTime: t.toDate().toISOString() } : {}), ...(reason !== undefined ? { revocationReason: reason } : {}) };
    }
    default:
      return { status: 'unknown' };
  }
}

/**
 * RFC 6960 §4.2.2.2: the answer is signed by the issuing CA itself, or by a responder certificate
 * the CA issued with the id-kp-OCSPSigning extended key usage.
 */
async function verifySignature(basic: Pkijs.BasicOCSPResponse, issuer: LoadedCert): Promise<{ ok: true; signer: 'issuer' | 'delegated' } | { ok: false; why: string }> {
  const embedded = basic.certs ?? [];
  const candidates: Pkijs.Certificate[] = [issuer.pki, ...embedded];
  const matches: Pkijs.Certificate[] = [];
  const rid = basic.tbsResponseData.responderID;
  for (const c of candidates) {
    if (rid instanceof pkijs.RelativeDistinguishedNames) {
      if (c.subject.isEqual(rid)) matches.push(c);
    } else if (rid instanceof asn1js.OctetString) {
      const key = c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
      if (Buffer.from(createHash('sha1').update(key).digest()).equals(Buffer.from(rid.valueBlock.valueHexView))) matches.push(c);
    }
  }
  if (matches.length === 0) return { ok: false, why: 'no certificate matches the responder id (the responder did not include its certificate)' };
  for (const signer of matches) {
    let good = false;
    try {
      good = await pkijs.getCrypto(true).verifyWithPublicKey(basic.tbsResponseData.tbsView, basic.signature, signer.subjectPublicKeyInfo, basic.signatureAlgorithm);
    } catch {
      good = false;
    }
    if (!good) continue;
    const der = Buffer.from(signer.toSchema(true).toBER(false));
    if (der.equals(issuer.der)) return { ok: true, signer: 'issuer' };
    const x = new X509Certificate(der);
    if (x.subject === issuer.x509.subject && x.publicKey.export({ type: 'spki', format: 'der' }).equals(issuer.x509.publicKey.export({ type: 'spki', format: 'der' }))) {
      return { ok: true, signer: 'issuer' };
    }
    let issued = false;
    try {
      issued = !!x.checkIssued(issuer.x509) && x.verify(issuer.x509.publicKey);
    } catch {
      issued = false;
    }
    if (!issued) return { ok: false, why: `the signer ${x.subject.split('\n').join(', ')} was not issued by the certificate's issuer` };
    if (!(x.keyUsage ?? []).includes(OID_OCSP_SIGNING)) return { ok: false, why: 'the delegated signer lacks the OCSP-signing extended key usage' };
    const now = Date.now();
    if (now > new Date(x.validTo).getTime() || now < new Date(x.validFrom).getTime()) return { ok: false, why: 'the delegated signer certificate is outside its validity period' };
    return { ok: true, signer: 'delegated' };
  }
  return { ok: false, why: 'the signature does not verify with the responder certificate' };
}

function checkNonce(basic: Pkijs.BasicOCSPResponse, nonce: Buffer): 'matched' | 'absent' | 'mismatch' {
  const ext = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === OID_NONCE);
  if (!ext) return 'absent';
  const got = Buffer.from(ext.extnValue.valueBlock.valueHexView);
  const wrapped = Buffer.from(new asn1js.OctetString({ valueHex: ab(nonce) }).toBER(false));
  return got.equals(wrapped) || got.equals(nonce) ? 'matched' : 'mismatch';
}
