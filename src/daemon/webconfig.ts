/**
 * `--web.config.file`: TLS and HTTP basic auth for the daemon's endpoints, in the file format of
 * Prometheus' exporter-toolkit (the one node_exporter and blackbox_exporter read), so one file and
 * one habit serve every exporter of a site (issue 16). `/report` and `/metrics` reveal internal
 * addresses and the network's weak spots; `/probe` makes the daemon connect where it is told.
 *
 * ```yaml
 * tls_server_config:
 *   cert_file: server.crt          # relative paths: to this file's folder, as exporter-toolkit does
 *   key_file: server.key
 *   client_ca_file: clients.pem    # optional, with client_auth_type: RequireAndVerifyClientCert
 *   min_version: TLS12             # optional: TLS12 or TLS13
 * basic_auth_users:
 *   prometheus: $2y$10$…           # bcrypt hashes (htpasswd -nBC 10 prometheus)
 * ```
 *
 * Strict like catalogs: an unknown key, or a key of exporter-toolkit netcheck does not implement,
 * is an error naming file, line and key (exit 2) rather than a setting silently ignored.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { isMap, isScalar, LineCounter, parseDocument, type Node } from 'yaml';
import { UsageError } from '../errors.js';

export interface WebConfig {
  file: string;
  tls?: {
    cert: Buffer;
    key: Buffer;
    ca?: Buffer;
    /** exporter-toolkit's client_auth_type: whether a client certificate is asked for, required, verified. */
    clientAuth: (typeof CLIENT_AUTH)[number];
    minVersion?: SecureVersion;
    maxVersion?: SecureVersion;
  };
  /** User name → bcrypt hash. Empty: no authentication. */
  users: Map<string, string>;
}

const CLIENT_AUTH = ['NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'] as const;
const VERSIONS: Record<string, SecureVersion> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
const TLS_KEYS = ['cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'min_version', 'max_version'];
/** exporter-toolkit settings netcheck does not implement: refused by name, never ignored. */
const UNSUPPORTED: Record<string, string[]> = {
  '': ['http_server_config', 'rate_limit'],
  tls_server_config: ['cert', 'key', 'client_ca', 'cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites', 'client_allowed_sans'],
};
/** A bcrypt hash as htpasswd -B and exporter-toolkit's docs make them ($2y$, $2a$ or $2b$). */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** Read and check a web config file; every problem is a UsageError naming file, line and key. */
export function loadWebConfig(file: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--web.config.file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const at = (node: Node | null | undefined): string => {
    const off = node?.range?.[0];
    return off === undefined ? file : `${file}:${lc.linePos(off).line}`;
  };
  const fail = (node: Node | null | undefined, key: string, message: string): never => {
    throw new UsageError(`${at(node)}: ${key ? `${key}: ` : ''}${message}`, 'NC_WEB_CONFIG');
  };
  if (doc.errors[0]) {
    const e = doc.errors[0];
    throw new UsageError(`${file}:${lc.linePos(e.pos[0]).line}: ${e.code === 'DUPLICATE_KEY' ? 'duplicate key (each key may appear once)' : `YAML syntax error: ${e.message.split('\n')[0]}`}`, 'NC_WEB_CONFIG');
  }
  const root = doc.contents;
  const config: WebConfig = { file, users: new Map() };
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return config;
  if (!isMap(root)) return fail(root, '', 'a web config is a YAML mapping with tls_server_config and/or basic_auth_users');

  /** The entries of a mapping node, each key checked against `allowed`. */
  const entries = (map: Node, path: string, allowed: string[]): { key: string; keyNode: Node; value: Node | null }[] => {
    if (!isMap(map)) return fail(map, path, 'expected a mapping');
    return map.items.map((pair) => {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      const full = path ? `${path}.${key}` : key;
      if (!allowed.includes(key)) {
        if (UNSUPPORTED[path]?.includes(key)) fail(keyNode, full, `this exporter-toolkit setting is not supported by netcheck (supported here: ${allowed.join(', ')})`);
        fail(keyNode, full, `unknown key (allowed here: ${allowed.join(', ')})`);
      }
      return { key, keyNode, value: (pair.value as Node | null) ?? null };
    });
  };
  const str = (v: Node | null, keyNode: Node, key: string): string => {
    if (!v || !isScalar(v) || typeof v.value !== 'string' || v.value === '') return fail(v ?? keyNode, key, 'expected a non-empty string');
    return v.value;
  };
  const readRel = (v: Node | null, keyNode: Node, key: string): Buffer => {
    const p = str(v, keyNode, key);
    const full = isAbsolute(p) ? p : join(dirname(file), p);
    try {
      return readFileSync(full);
    } catch (err) {
      return fail(v, key, `cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };

  for (const top of entries(root, '', ['tls_server_config', 'basic_auth_users'])) {
    if (top.value === null || (isScalar(top.value) && top.value.value === null)) continue;
    // basic_auth_users: any user name is allowed; checked below.
    if (top.key === 'tls_server_config') {
      const tls: Record<string, { v: Node | null; k: Node }> = {};
      for (const e of entries(top.value, top.key, TLS_KEYS)) tls[e.key] = { v: e.value, k: e.keyNode };
      const need = (k: string): { v: Node | null; k: Node } => tls[k] ?? fail(top.keyNode, `tls_server_config.${k}`, 'missing (TLS needs both cert_file and key_file)');
      const cert = readRel(need('cert_file').v, need('cert_file').k, 'tls_server_config.cert_file');
      const key = readRel(need('key_file').v, need('key_file').k, 'tls_server_config.key_file');
      const authType = tls.client_auth_type ? str(tls.client_auth_type.v, tls.client_auth_type.k, 'tls_server_config.client_auth_type') : 'NoClientCert';
      if (!(CLIENT_AUTH as readonly string[]).includes(authType)) fail(tls.client_auth_type!.v, 'tls_server_config.client_auth_type', `'${authType}' is not one of ${CLIENT_AUTH.join(', ')}`);
      const verify = authType === 'VerifyClientCertIfGiven' || authType === 'RequireAndVerifyClientCert';
      if (verify && !tls.client_ca_file) fail(tls.client_auth_type!.v, 'tls_server_config.client_auth_type', `${authType} needs client_ca_file`);
      const version = (k: 'min_version' | 'max_version'): SecureVersion | undefined => {
        if (!tls[k]) return undefined;
        const v = str(tls[k]!.v, tls[k]!.k, `tls_server_config.${k}`);
        return VERSIONS[v] ?? fail(tls[k]!.v, `tls_server_config.${k}`, `'${v}' is not supported; use TLS12 or TLS13`);
      };
      const minVersion = version('min_version');
      const maxVersion = version('max_version');
      config.tls = {
        cert,
        key,
        ...(tls.client_ca_file ? { ca: readRel(tls.client_ca_file.v, tls.client_ca_file.k, 'tls_server_config.client_ca_file') } : {}),
        clientAuth: authType as (typeof CLIENT_AUTH)[number],
        ...(minVersion ? { minVersion } : {}),
        ...(maxVersion ? { maxVersion } : {}),
      };
    }
  }
  const users = doc.get('basic_auth_users', true) as Node | undefined;
  if (users && isMap(users)) {
    for (const pair of users.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = pair.value as Node | null;
      const key = `basic_auth_users.${name}`;
      if (!name || name.includes(':')) fail(pair.key as Node, key, 'a user name must be non-empty and contain no colon (HTTP basic auth splits on it)');
      const hash = str(v, pair.key as Node, key);
      if (!BCRYPT.test(hash)) fail(v, key, 'not a bcrypt hash; make one with: htpasswd -nBC 10 USER (the part after the colon)');
      config.users.set(name, hash);
    }
  } else if (users && !(isScalar(users) && users.value === null)) fail(users, 'basic_auth_users', 'expected a mapping of user name to bcrypt hash');
  return config;
}

/** A bcrypt hash of nothing anyone knows, compared against for unknown users so timing says nothing. */
const DUMMY = '$2b$10$0SCbJI0YtyenWwgAZZfI1u0.KcXXYTNE8q0g/ZgPVgUDA5gkkZtf.';

/**
 * HTTP basic auth against bcrypt hashes. bcrypt is slow on purpose (tens of ms per check), so a
 * successful check is remembered — keyed by a SHA-256 of user, hash and password, never the
 * password — as exporter-toolkit does, and a scrape every few seconds costs nothing after the first.
 */
export class BasicAuth {
  private readonly ok = new Set<string>();

  constructor(private readonly users: Map<string, string>) {}

  get enabled(): boolean {
    return this.users.size > 0;
  }

  /** Whether an `Authorization` header names a user whose password matches. */
  async check(header: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
    if (!m) return false;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.users.get(user);
    const cacheKey = createHash('sha256').update(`${user}\0${hash ?? ''}\0${password}`).digest('hex');
    if (hash && this.ok.has(cacheKey)) return true;
    const { default: bcrypt } = await import('bcryptjs');
    const good = await bcrypt.compare(password, hash ?? DUMMY);
    if (!good || !hash) return false;
    // Bounded: a new entry per distinct good password, which only users holding one can add.
    if (this.ok.size > 1000) this.ok.clear();
    this.ok.add(cacheKey);
    return true;
  }
}
