/**
 * Root stores the tls prober compares a chain against: Node's bundled Mozilla store
 * (`tls.rootCertificates`), the operating system's store, and roots given by the user (`--ca`).
 * A root in the OS store but not in Mozilla's is the classic mark of a TLS-inspecting proxy whose
 * CA was pushed to managed machines.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

/** A set of trust anchors, indexed by subject and by subject+key identity. */
export interface RootStore {
  name: 'mozilla' | 'os' | 'custom';
  certs: X509Certificate[];
  /** Subject DN → certificates with that subject. */
  bySubject: Map<string, X509Certificate[]>;
  /** `subject|spki-sha256` of every anchor: same name and key means the same root. */
  identities: Set<string>;
  /** Files read (for the OS store), so a report can say where it looked. */
  sources?: string[];
}

/** SHA-256 of the SubjectPublicKeyInfo, hex: the identity of a key across re-issued certificates. */
export function spkiSha256(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}

/** Identity of a root: its subject and key (a root re-issued with new dates is the same root). */
export function rootIdentity(cert: X509Certificate): string {
  return `${cert.subject}|${spkiSha256(cert)}`;
}

/** Every PEM certificate in a text (bundles hold many). Unparseable blocks are skipped. */
export function parsePemBundle(text: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  const re = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
  for (const m of text.matchAll(re)) {
    try {
      out.push(new X509Certificate(m[0]));
    } catch {
      // A damaged block in a system bundle must not hide the others.
    }
  }
  return out;
}

/** Build a store from certificates. */
export function makeStore(name: RootStore['name'], certs: X509Certificate[], sources?: string[]): RootStore {
  const bySubject = new Map<string, X509Certificate[]>();
  const identities = new Set<string>();
  const seen = new Set<string>();
  const kept: X509Certificate[] = [];
  for (const c of certs) {
    if (seen.has(c.fingerprint256)) continue;
    seen.add(c.fingerprint256);
    kept.push(c);
    bySubject.set(c.subject, [...(bySubject.get(c.subject) ?? []), c]);
    identities.add(rootIdentity(c));
  }
  return { name, certs: kept, bySubject, identities, ...(sources ? { sources } : {}) };
}

let mozilla: RootStore | undefined;
/** Node's bundled Mozilla CA store. */
export function mozillaStore(): RootStore {
  mozilla ??= makeStore('mozilla', rootCertificates.flatMap((pem) => parsePemBundle(pem)));
  return mozilla;
}

const osCache = new Map<string, RootStore>();
/**
 * The OS store. Follows OpenSSL's own variables: SSL_CERT_FILE (a bundle) and SSL_CERT_DIR (a
 * directory of PEM files); without them, Debian's /etc/ssl/certs bundle and directory.
 */
export function osStore(env: NodeJS.ProcessEnv = process.env): RootStore {
  const file = env.SSL_CERT_FILE ?? (env.SSL_CERT_DIR ? undefined : '/etc/ssl/certs/ca-certificates.crt');
  const dir = env.SSL_CERT_DIR ?? (env.SSL_CERT_FILE ? undefined : '/etc/ssl/certs');
  const key = `${file ?? ''}|${dir ?? ''}`;
  const cached = osCache.get(key);
  if (cached) return cached;
  const certs: X509Certificate[] = [];
  const sources: string[] = [];
  if (file) {
    try {
      certs.push(...parsePemBundle(readFileSync(file, 'utf8')));
      sources.push(file);
    } catch {
      // No bundle on this system: the store is what the directory holds.
    }
  }
  if (dir) {
    try {
      for (const name of readdirSync(dir)) {
        if (!/\.(pem|crt)$/i.test(name) || name === 'ca-certificates.crt') continue;
        const p = join(dir, name);
        try {
          if (statSync(p).size > 1024 * 1024) continue;
          certs.push(...parsePemBundle(readFileSync(p, 'utf8')));
        } catch {
          // Dangling symlink or unreadable file: skip it.
        }
      }
      sources.push(dir);
    } catch {
      // No directory: fine.
    }
  }
  const store = makeStore('os', certs, sources);
  osCache.set(key, store);
  return store;
}

/** Roots from a PEM file given by the user. Throws with a plain message when the file holds none. */
export function customStore(pemText: string): RootStore {
  return makeStore('custom', parsePemBundle(pemText));
}

/**
 * The anchor in `store` for the top of a chain: the top itself when the store holds it, or a
 * store certificate whose subject is the top's issuer and whose key verifies the top's signature.
 */
export function findAnchor(top: X509Certificate, store: RootStore): X509Certificate | undefined {
  if (store.identities.has(rootIdentity(top))) return top;
  for (const cand of store.bySubject.get(top.issuer) ?? []) {
    try {
      if (top.verify(cand.publicKey)) return cand;
    } catch {
      // Key type mismatch: not this one.
    }
  }
  return undefined;
}
