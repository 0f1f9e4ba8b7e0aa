/**
 * What a presented certificate chain says: each certificate's facts, whether each link is really
 * signed by the next, which trust store anchors it, and the interception verdict with its reasons.
 * Pure: the clock and the stores are parameters.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { X509Certificate as NodeX509 } from 'node:crypto';
import { inspectionProductOf } from './inspection.js';
import { findAnchor, spkiSha256, type RootStore } from './roots.js';

/** Certificates beyond this many in a presented chain are not analysed (real chains have 2–4). */
export const MAX_CHAIN_CERTS = 10;

/** One certificate of a chain, as the report shows it. */
export interface ChainEntry {
  subject: string;
  issuer: string;
  serialNumber: string;
  /** SHA-256 of the SubjectPublicKeyInfo, hex (the key's identity, as in certificate pinning). */
  spkiSha256: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  /** Subject alternative names, e.g. `DNS:example.com`, `IP Address:127.0.0.1`. */
  sans: string[];
  ca: boolean;
  selfSigned: boolean;
  /** Is this certificate signed by the next one in the chain (absent for the last)? */
  signedByNext?: boolean;
}

export interface InterceptionReason {
  code: 'UNEXPECTED_ROOT' | 'OS_STORE_ONLY_ROOT' | 'KNOWN_INSPECTION_ISSUER' | 'ISSUER_NOT_EXPECTED';
  detail: string;
}

export interface ChainAnalysis {
  chain: ChainEntry[];
  /** Certificates the peer's chain held (may exceed `chain.length` when capped). */
  presented: number;
  truncated: boolean;
  /** The trust anchor the chain leads to, and which stores hold it. */
  anchor?: { subject: string; spkiSha256: string; stores: RootStore['name'][] };
  /** Every link verified (signature of each certificate by the next). */
  linksValid: boolean;
  leaf: { expired: boolean; notYetValid: boolean; daysLeft: number; hostnameMatch: boolean | null; hostnameError?: string };
  /** Matched `expectIssuers` entries; null when none were given. */
  issuerMatch: { expected: string[]; matched: string[] } | null;
  interception: boolean;
  interceptionReasons: InterceptionReason[];
  inspectionProduct?: string;
}

export interface AnalyseOptions {
  /** Name checked against the leaf (SNI name, or the IP probed). */
  servername?: string;
  expectIssuers?: string[];
  /** Roots given by the user; when present they are the expected roots instead of Mozilla's. */
  custom?: RootStore;
  mozilla: RootStore;
  os: RootStore;
  now: Date;
}

/** Walk Node's detailed peer certificate into a list, leaf first, stopping at self-issued or loops. */
export function walkPeerChain(peer: PeerCertificate & { issuerCertificate?: PeerCertificate }, limit = 64): { certs: NodeX509[]; presented: number } {
  const certs: NodeX509[] = [];
  const seen = new Set<string>();
  let cur: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = peer;
  let presented = 0;
  while (cur && cur.raw && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    presented++;
    if (certs.length < limit) certs.push(new NodeX509(cur.raw));
    cur = cur.issuerCertificate as (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined;
  }
  return { certs, presented };
}

function entryOf(c: NodeX509): ChainEntry {
  let selfSigned = false;
  try {
    selfSigned = c.subject === c.issuer && c.verify(c.publicKey);
  } catch {
    selfSigned = false;
  }
  return {
    subject: oneLine(c.subject),
    issuer: oneLine(c.issuer),
    serialNumber: c.serialNumber,
    spkiSha256: spkiSha256(c),
    sha256: c.fingerprint256.replace(/:/g, '').toLowerCase(),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    sans: c.subjectAltName ? c.subjectAltName.split(/,\s*/) : [],
    ca: c.ca,
    selfSigned,
  };
}

/** Node prints DNs one attribute per line; reports want one line. */
export function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** Analyse a chain, leaf first. */
export function analyseChain(all: NodeX509[], presented: number, o: AnalyseOptions): ChainAnalysis {
  const certs = all.slice(0, MAX_CHAIN_CERTS);
  const chain = certs.map(entryOf);
  let linksValid = true;
  for (let i = 0; i + 1 < certs.length; i++) {
    let ok = false;
    try {
      ok = !!certs[i]!.checkIssued(certs[i + 1]!) && certs[i]!.verify(certs[i + 1]!.publicKey);
    } catch {
      ok = false;
    }
    chain[i]!.signedByNext = ok;
    if (!ok) linksValid = false;
  }

  const leafCert = certs[0]!;
  const notBefore = new Date(leafCert.validFrom).getTime();
  const notAfter = new Date(leafCert.validTo).getTime();
  const now = o.now.getTime();
  let hostnameMatch: boolean | null = null;
  let hostnameError: string | undefined;
  if (o.servername) {
    // checkServerIdentity wants Node's legacy object; the subject/SAN fields are all it reads.
    const legacy = leafCert.toLegacyObject() as PeerCertificate;
    const err = checkServerIdentity(o.servername, legacy);
    hostnameMatch = !err;
    if (err) hostnameError = err.message;
  }

  const top = certs[certs.length - 1]!;
  const stores: RootStore['name'][] = [];
  let anchorCert: NodeX509 | undefined;
  for (const s of [o.custom, o.mozilla, o.os]) {
    if (!s) continue;
    const a = findAnchor(top, s);
    if (a) {
      stores.push(s.name);
      anchorCert ??= a;
    }
  }

  const reasons: InterceptionReason[] = [];
  const inMozilla = stores.includes('mozilla');
  const inOs = stores.includes('os');
  const expected = o.custom ? stores.includes('custom') : inMozilla;
  const osOnly = inOs && !inMozilla && !stores.includes('custom');
  if (osOnly) {
    reasons.push({
      code: 'OS_STORE_ONLY_ROOT',
      detail: `the chain leads to ${oneLine(anchorCert!.subject)}, a root in this machine's store (${o.os.sources?.join(', ') || 'OS store'}) that Node's bundled Mozilla store does not hold: a locally installed CA, as TLS-inspecting proxies use`,
    });
  }
  if (!expected && !(osOnly && !o.custom)) {
    reasons.push({
      code: 'UNEXPECTED_ROOT',
      detail: anchorCert
        ? `the chain leads to ${oneLine(anchorCert.subject)}, not to ${o.custom ? 'the CA given with --ca' : 'a root of the Mozilla store'}`
        : `the chain (top: ${oneLine(top.subject)}, issued by ${oneLine(top.issuer)}) leads to no ${o.custom ? 'CA given with --ca' : 'root of the Mozilla or OS store'}`,
    });
  }
  // Names of everything above the leaf: the leaf's own subject is the site, not the issuer.
  const issuerNames = [...certs.map((c) => oneLine(c.issuer)), ...certs.slice(1).map((c) => oneLine(c.subject)), ...(anchorCert ? [oneLine(anchorCert.subject)] : [])];
  const product = inspectionProductOf(issuerNames);
  if (product) {
    reasons.push({ code: 'KNOWN_INSPECTION_ISSUER', detail: `the chain is issued by ${product.name}, a ${product.product} TLS-inspection CA` });
  }
  let issuerMatch: ChainAnalysis['issuerMatch'] = null;
  if (o.expectIssuers?.length) {
    const matched = o.expectIssuers.filter((e) => issuerNames.some((n) => n.toLowerCase().includes(e.toLowerCase())));
    issuerMatch = { expected: o.expectIssuers, matched };
    if (matched.length === 0) {
      reasons.push({ code: 'ISSUER_NOT_EXPECTED', detail: `no certificate in the chain is issued by ${o.expectIssuers.join(' or ')} (issuers seen: ${[...new Set(issuerNames)].join('; ')})` });
    }
  }

  return {
    chain,
    presented,
    truncated: presented > chain.length,
    ...(anchorCert ? { anchor: { subject: oneLine(anchorCert.subject), spkiSha256: spkiSha256(anchorCert), stores } } : {}),
    linksValid,
    leaf: {
      expired: now > notAfter,
      notYetValid: now < notBefore,
      daysLeft: Math.floor((notAfter - now) / 86_400_000),
      hostnameMatch,
      ...(hostnameError ? { hostnameError } : {}),
    },
    issuerMatch,
    interception: reasons.length > 0,
    interceptionReasons: reasons,
    ...(product ? { inspectionProduct: product.product } : {}),
  };
}

