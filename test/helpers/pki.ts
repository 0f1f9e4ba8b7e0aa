/**
 * A test PKI built with the machine's `openssl` CLI: CAs, leaf certificates with SANs and chosen
 * serials, long chains, an index.txt for a real `openssl ocsp` responder, and CRLs from `openssl ca`.
 * Everything lives in a temporary directory the caller removes.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  key: string;
  cert: string;
  /** PEM text of the certificate. */
  pem: string;
  keyPem: string;
  serialHex: string;
  subject: string;
}

export class Pki {
  readonly dir: string;
  private n = 0;
  constructor(prefix = 'nc-pki-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  private ossl(args: string[], input?: string): string {
    return execFileSync('openssl', args, { cwd: this.dir, input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
  }

  private file(name: string): string {
    return join(this.dir, name);
  }

  /** A self-signed root CA (EC P-256: fast). `subject` like `/O=Acme/CN=Acme Root`. */
  ca(name: string, subject: string, opts: { days?: number } = {}): Issued {
    const key = this.file(`${name}.key`);
    const cert = this.file(`${name}.pem`);
    const ext = this.file(`${name}.ext`);
    writeFileSync(ext, 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n');
    this.ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    this.ossl(['req', '-x509', '-new', '-key', key, '-out', cert, '-subj', subject, '-days', String(opts.days ?? 30), '-sha256', '-extensions', 'v3', '-config', this.reqConfig(ext)]);
    return this.read(name, key, cert);
  }

  private reqConfig(extFile: string): string {
    const cfg = this.file(`req-${++this.n}.cnf`);
    writeFileSync(cfg, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${readFileSync(extFile, 'utf8')}`);
    return cfg;
  }

  /**
   * A certificate signed by `issuer`. `sans` like `DNS:localhost,IP:127.0.0.1`. `notBefore`/`notAfter`
   * as YYYYMMDDHHMMSSZ allow expired certificates.
   */
  issue(
    name: string,
    issuer: Issued,
    subject: string,
    opts: { sans?: string; ca?: boolean; serial?: number; days?: number; eku?: string; ocspUrl?: string; notBefore?: string; notAfter?: string } = {},
  ): Issued {
    const key = this.file(`${name}.key`);
    const csr = this.file(`${name}.csr`);
    const cert = this.file(`${name}.pem`);
    const ext = this.file(`${name}.ext`);
    const lines = [opts.ca ? 'basicConstraints=critical,CA:TRUE' : 'basicConstraints=CA:FALSE'];
    lines.push(opts.ca ? 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature' : 'keyUsage=critical,digitalSignature,keyEncipherment');
    if (opts.sans) lines.push(`subjectAltName=${opts.sans}`);
    if (opts.eku) lines.push(`extendedKeyUsage=${opts.eku}`);
    if (opts.ocspUrl) lines.push(`authorityInfoAccess=OCSP;URI:${opts.ocspUrl}`);
    lines.push('authorityKeyIdentifier=keyid', 'subjectKeyIdentifier=hash');
    writeFileSync(ext, lines.join('\n') + '\n');
    this.ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    this.ossl(['req', '-new', '-key', key, '-out', csr, '-subj', subject]);
    const serial = opts.serial ?? 1000 + ++this.n;
    if (opts.notBefore || opts.notAfter) {
      // `openssl x509 -req` cannot set arbitrary dates in 3.0; `openssl ca` can.
      this.caSign(issuer, csr, cert, ext, serial, opts.notBefore ?? '20200101000000Z', opts.notAfter ?? '20991231000000Z');
    } else {
      this.ossl(['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key, '-set_serial', String(serial), '-days', String(opts.days ?? 10), '-sha256', '-extfile', ext, '-out', cert]);
    }
    return this.read(name, key, cert);
  }

  private caSign(issuer: Issued, csr: string, out: string, ext: string, serial: number, start: string, end: string): void {
    const d = mkdtempSync(join(this.dir, 'ca-'));
    writeFileSync(join(d, 'index.txt'), '');
    writeFileSync(join(d, 'serial'), serial.toString(16).padStart(4, '0').toUpperCase() + '\n');
    const cfg = join(d, 'ca.cnf');
    writeFileSync(cfg, `[ca]\ndefault_ca=d\n[d]\ndatabase=${d}/index.txt\nserial=${d}/serial\nnew_certs_dir=${d}\ndefault_md=sha256\npolicy=p\nunique_subject=no\ncopy_extensions=none\n[p]\ncommonName=supplied\n`);
    this.ossl(['ca', '-batch', '-config', cfg, '-cert', issuer.cert, '-keyfile', issuer.key, '-in', csr, '-out', out, '-startdate', start, '-enddate', end, '-extfile', ext, '-notext']);
  }

  private read(name: string, key: string, cert: string): Issued {
    const serial = this.ossl(['x509', '-in', cert, '-noout', '-serial']).trim().replace(/^serial=/, '');
    const subject = this.ossl(['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'compat']).trim().replace(/^subject=/, '');
    return { key, cert, pem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8'), serialHex: serial, subject };
  }

  /** Write a file in the PKI directory. */
  write(name: string, data: string | Buffer): string {
    const p = this.file(name);
    writeFileSync(p, data);
    return p;
  }

  /**
   * An OpenSSL CA database: `good` certificates valid, `revoked` revoked an hour ago. Certificates
   * in neither are unknown to a responder serving it.
   */
  index(name: string, good: Issued[], revoked: Issued[]): string {
    const exp = '991231000000Z';
    const past = new Date(Date.now() - 3600_000).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const lines = [
      ...good.map((c) => `V\t${exp}\t\t${c.serialHex}\tunknown\t${c.subject}`),
      ...revoked.map((c) => `R\t${exp}\t${past},keyCompromise\t${c.serialHex}\tunknown\t${c.subject}`),
    ];
    const p = this.file(name);
    writeFileSync(p, lines.length ? lines.join('\n') + '\n' : '');
    writeFileSync(`${p}.attr`, 'unique_subject = no\n');
    return p;
  }

  /** A CRL signed by `ca` over `index`, with explicit lastUpdate/nextUpdate (YYYYMMDDHHMMSSZ). */
  crl(name: string, ca: Issued, index: string, lastUpdate: string, nextUpdate: string): { pem: string; der: Buffer; pemPath: string } {
    const d = mkdtempSync(join(this.dir, 'crl-'));
    writeFileSync(join(d, 'crlnumber'), '01\n');
    const cfg = join(d, 'ca.cnf');
    writeFileSync(cfg, `[ca]\ndefault_ca=d\n[d]\ndatabase=${index}\ncrlnumber=${d}/crlnumber\ndefault_md=sha256\n`);
    const out = this.file(`${name}.crl.pem`);
    this.ossl(['ca', '-batch', '-gencrl', '-config', cfg, '-cert', ca.cert, '-keyfile', ca.key, '-out', out, '-crl_lastupdate', lastUpdate, '-crl_nextupdate', nextUpdate]);
    const der = execFileSync('openssl', ['crl', '-in', out, '-outform', 'DER']);
    return { pem: readFileSync(out, 'utf8'), der, pemPath: out };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** YYYYMMDDHHMMSSZ for `openssl ca`, `offsetMs` from now. */
export function osslTime(offsetMs: number): string {
  return new Date(Date.now() + offsetMs).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

/** A real `openssl ocsp` responder on an ephemeral port (it prints `ACCEPT [::]:PORT`). */
export async function startOcspResponder(pki: Pki, index: string, ca: Issued, signer: Issued = ca, extra: string[] = []): Promise<{ port: number; proc: ChildProcess; stop: () => Promise<void> }> {
  const proc = spawn('openssl', ['ocsp', '-index', index, '-port', '0', '-rsigner', signer.cert, '-rkey', signer.key, '-CA', ca.cert, '-ndays', '1', ...extra], { cwd: pki.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`openssl ocsp did not start: ${out}`)), 10_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /ACCEPT .*:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`openssl ocsp exited (${code}): ${out}`));
    });
  });
  return {
    port,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}
