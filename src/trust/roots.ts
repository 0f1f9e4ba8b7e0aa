/**
 * Root stores the tls prober compares a chain against: Node's bundled Mozilla store
 * (`tls.rootCertificates`), the operating system's store, and roots given by the user (`--ca`).
 * A root in the OS store but not in Mozilla's is the classic mark of a TLS-inspecting proxy whose
 * CA was pushed to managed machines.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tls, { rootCertificates } from 'node:tls';

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

/** Where each system keeps its trust store, as a report names it. */
const SYSTEM_STORE_NAME: Partial<Record<NodeJS.Platform, string>> = { win32: 'Windows certificate store', darwin: 'macOS keychain' };
/** CA bundles of the common Linux families and macOS, read where no other source answers. */
const BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The system trust store through Node (`tls.getCACertificates('system')`, Node ≥ 22.15 / 23.10):
 * the Windows certificate store, the macOS keychain, OpenSSL's default locations on Linux. The
 * executables run such a Node; on an older Node (the npm package on Node 20) it is undefined.
 */
export function systemCertificates(): string[] | undefined {
  const get = (tls as unknown as { getCACertificates?: (type: 'system') => string[] }).getCACertificates;
  if (typeof get !== 'function') return undefined;
  try {
    return get('system');
  } catch {
    return undefined;
  }
}

export interface OsStoreOptions {
  platform?: NodeJS.Platform;
  /** The system store's PEM certificates, or undefined where this Node cannot read it (tests). */
  system?: () => string[] | undefined;
}

/**
 * The OS store. SSL_CERT_FILE (a bundle) and SSL_CERT_DIR (a directory of PEM files), OpenSSL's
 * own variables, override everything. Otherwise Windows and macOS ask the system's store (a
 * corporate root pushed by group policy or MDM lives there, not in any file); Linux reads
 * /etc/ssl/certs and the distribution bundles, and asks the system store only when they hold nothing.
 */
export function osStore(env: NodeJS.ProcessEnv = process.env, opts: OsStoreOptions = {}): RootStore {
  const platform = opts.platform ?? process.platform;
  const explicit = env.SSL_CERT_FILE !== undefined || env.SSL_CERT_DIR !== undefined;
  const key = `${platform}|${env.SSL_CERT_FILE ?? ''}|${env.SSL_CERT_DIR ?? ''}`;
  const cached = opts.system ? undefined : osCache.get(key);
  if (cached) return cached;
  const certs: X509Certificate[] = [];
  const sources: string[] = [];
  const fromSystem = (): boolean => {
    const pems = (opts.system ?? systemCertificates)();
    if (!pems?.length) return false;
    certs.push(...pems.flatMap((pem) => parsePemBundle(pem)));
    sources.push(SYSTEM_STORE_NAME[platform] ?? 'system store (OpenSSL defaults)');
    return true;
  };
  if (!explicit && SYSTEM_STORE_NAME[platform] && fromSystem()) return remember(key, makeStore('os', certs, sources), !opts.system);
  const files = explicit ? (env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : []) : BUNDLES;
  const dir = explicit ? env.SSL_CERT_DIR : '/etc/ssl/certs';
  for (const file of files) {
    try {
      certs.push(...parsePemBundle(readFileSync(file, 'utf8')));
      sources.push(file);
      // One bundle is the whole store; the others are other distributions' names for it.
      if (!explicit) break;
    } catch {
      // No bundle here: try the next, then the directory.
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
  if (!explicit && certs.length === 0) fromSystem();
  return remember(key, makeStore('os', certs, sources), !opts.system);
}

function remember(key: string, store: RootStore, cache: boolean): RootStore {
  if (cache) osCache.set(key, store);
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
