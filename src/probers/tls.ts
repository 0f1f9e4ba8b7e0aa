/**
 * tls: a TLS handshake with SNI, directly or through a CONNECT proxy, then a look at the chain the
 * peer presented: each certificate (subject, issuer, SPKI hash, validity, SANs), expiry, the
 * expected issuers, and an interception verdict (the chain leads to an unexpected root, to a root
 * only this machine's OS store trusts, or to a known TLS-inspection product's CA).
 *
 * Trust failures are findings, not handshake failures: the handshake never rejects a certificate,
 * so the chain can always be reported. Hostile peers (garbage, a stalled handshake, an absurd chain)
 * end at the deadline or on the first malformed record, with a reason.
 */
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { analyseChain, MAX_CHAIN_CERTS, walkPeerChain } from '../trust/chain.js';
import { customStore, mozillaStore, osStore, type RootStore } from '../trust/roots.js';
import type { TlsOptions } from '../kinds/tls.js';
import type { Phases, Prober, ProbeOutcome } from '../types.js';
import { dial } from '../net/dial.js';
import { proxyFor, routeData } from '../net/proxy.js';
import { sniName } from '../util/ip.js';
import { absorbErrors } from '../util/sockets.js';
import { classifyTlsFailure } from '../net/classify.js';
import { ms, resolveTarget } from '../net/target.js';
import { because } from '../reasons.js';

/** Days before expiry at which an otherwise good certificate is reported as expiring. */
const DEFAULT_EXPIRY_WARN_DAYS = 14;

/** Custom CA files are read once per run, not once per probe. */
const caCache = new Map<string, { pem: string; store: RootStore } | { error: string }>();
function loadCa(path: string): { pem: string; store: RootStore } | { error: string } {
  let e = caCache.get(path);
  if (!e) {
    try {
      const pem = readFileSync(path, 'utf8');
      const store = customStore(pem);
      e = store.certs.length ? { pem, store } : { error: `${path} holds no PEM certificate` };
    } catch (err) {
      e = { error: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
    }
    caCache.set(path, e);
  }
  return e;
}

export const tls: Prober<TlsOptions> = async (spec, ctx) => {
  const servername = spec.options.servername ?? sniName(spec.host);
  const { expectIssuers, expiryWarnDays: warnDays = DEFAULT_EXPIRY_WARN_DAYS } = spec.options;
  const interceptionOnly = spec.options.interceptionOnly === true;
  let custom: { pem: string; store: RootStore } | undefined;
  if (spec.options.ca !== undefined) {
    const c = loadCa(spec.options.ca);
    if ('error' in c) return { ...because('CA_FILE_UNUSABLE'), detail: c.error };
    custom = c;
  }

  const proxy = proxyFor(ctx.proxy, 'https', spec.host, spec.port);
  const route = routeData(proxy);
  const phases: Phases = {};
  let address: string | undefined;
  if (!proxy) {
    const target = await resolveTarget(spec, ctx);
    if (!target.ok) return { ...target.outcome, data: { ...target.outcome.data, ...route } };
    address = target.address;
    if (target.resolveMs !== undefined) phases.resolveMs = ms(target.resolveMs);
  }
  const at = address ? { address } : {};

  const d = await dial({ address: address ?? spec.host, host: spec.host, port: spec.port!, ...(proxy ? { proxy } : {}), signal: ctx.signal, timeoutMs: spec.timeoutMs });
  if (!d.ok) return { ...d.outcome, ...at, phases: { ...phases, ...roundPhases(d.outcome.phases) }, data: { ...route, ...d.outcome.data } };
  phases.connectMs = ms(d.connectMs + (d.tunnelMs ?? 0));
  const via = d.via ? { via: d.via } : {};

  let sock: TLSSocket | undefined;
  const raw: Socket = d.socket;
  const t1 = performance.now();
  try {
    const hs = await new Promise<{ ok: true } | { ok: false; err?: unknown; aborted?: boolean }>((resolve) => {
      const onAbort = (): void => resolve({ ok: false, aborted: true });
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      const s = absorbErrors(tlsConnect({
        socket: raw,
        ...(servername ? { servername } : {}),
        // Never reject here: the chain is the finding, and a rejected handshake would hide it.
        rejectUnauthorized: false,
        ...(custom ? { ca: custom.pem } : {}),
        ALPNProtocols: ['h2', 'http/1.1'],
      }));
      sock = s;
      s.once('secureConnect', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ ok: true });
      });
      s.once('error', (err) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ ok: false, err });
      });
      s.once('close', () => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve({ ok: false, err: Object.assign(new Error('closed before the handshake completed'), { code: 'ECONNRESET' }) });
      });
    });
    if (!hs.ok) {
      if (hs.aborted) {
        return { ...because('TLS_HANDSHAKE_TIMEOUT'), detail: `connected, but the TLS handshake did not finish within ${spec.timeoutMs}ms (the peer stalled)`, ...at, phases, data: { ...route, ...via } };
      }
      const f = classifyTlsFailure(hs.err);
      return { ...f, ...at, phases: { ...phases, tlsMs: ms(performance.now() - t1) }, data: { ...route, ...via, ...f.data } };
    }
    phases.tlsMs = ms(performance.now() - t1);
    const s = sock!;
    const peer = s.getPeerCertificate(true) as DetailedPeerCertificate;
    const base = { protocol: s.getProtocol(), cipher: s.getCipher()?.name, alpn: s.alpnProtocol || null, authorized: s.authorized, ...(s.authorizationError ? { authorizationError: String(s.authorizationError) } : {}) };
    if (!peer || !peer.raw) {
      return { ...because('TLS_NO_CERTIFICATE'), detail: 'the handshake completed without a server certificate', ...at, phases, data: { ...route, ...via, ...base } };
    }
    const { certs, presented } = walkPeerChain(peer);
    const servernameChecked = servername ?? (address && isIP(spec.host) !== 0 ? spec.host : undefined);
    const a = analyseChain(certs, presented, {
      ...(servernameChecked ? { servername: servernameChecked } : {}),
      ...(expectIssuers ? { expectIssuers } : {}),
      ...(custom ? { custom: custom.store } : {}),
      mozilla: mozillaStore(),
      os: osStore(),
      now: new Date(),
    });
    const data: Record<string, unknown> = {
      ...route,
      ...via,
      ...(servername ? { servername } : {}),
      ...base,
      interception: a.interception,
      interceptionReasons: a.interceptionReasons,
      ...(a.inspectionProduct ? { inspectionProduct: a.inspectionProduct } : {}),
      chain: a.chain,
      chainLength: a.presented,
      ...(a.truncated ? { chainTruncated: true } : {}),
      anchor: a.anchor ?? null,
      linksValid: a.linksValid,
      leaf: a.leaf,
      issuerMatch: a.issuerMatch,
    };
    return { ...(interceptionOnly ? interceptionVerdict(a) : verdict(a, warnDays)), ...at, phases, data };
  } finally {
    sock?.destroy();
    raw.destroy();
  }
};

function roundPhases(p: Phases | undefined): Phases {
  const out: Phases = {};
  if (p?.connectMs !== undefined) out.connectMs = ms(p.connectMs);
  return out;
}

/** Status and reason of a completed handshake, from the chain analysis. Worst finding first. */
function verdict(a: ReturnType<typeof analyseChain>, warnDays: number): Pick<ProbeOutcome, 'status' | 'reason' | 'detail'> {
  if (a.truncated) {
    return { ...because('TLS_CHAIN_TOO_LONG'), detail: `the peer presented a chain of ${a.presented} certificates (more than ${MAX_CHAIN_CERTS}; real chains hold 2–4): a broken or hostile server` };
  }
  if (a.interception) {
    return { ...because('TLS_INTERCEPTED'), detail: `TLS interception: ${a.interceptionReasons.map((r) => r.detail).join('; ')}` };
  }
  if (!a.linksValid) {
    return { ...because('TLS_CHAIN_BROKEN'), detail: 'a certificate in the chain is not signed by the next one' };
  }
  if (a.leaf.expired) return { ...because('TLS_CERT_EXPIRED'), detail: `the server certificate expired ${-a.leaf.daysLeft} day(s) ago (${a.chain[0]!.notAfter})` };
  if (a.leaf.notYetValid) return { ...because('TLS_CERT_NOT_YET_VALID'), detail: `the server certificate is valid only from ${a.chain[0]!.notBefore} (check this machine's clock)` };
  if (a.leaf.hostnameMatch === false) return { ...because('TLS_HOSTNAME_MISMATCH'), detail: a.leaf.hostnameError ?? 'the certificate does not name this host' };
  const issuer = a.anchor ? ` issued under ${a.anchor.subject} (${a.anchor.stores.join(', ')} store)` : '';
  if (a.leaf.daysLeft < warnDays) {
    return { ...because('TLS_CERT_EXPIRING'), detail: `handshake ok${issuer}, but the certificate expires in ${a.leaf.daysLeft} day(s)` };
  }
  return { ...because('TLS_OK'), detail: `handshake ok, chain of ${a.presented}${issuer}, no interception seen` };
}

/**
 * `interceptionOnly` (catalog lines on bare addresses, probed without SNI): the question is only
 * whether something on the path re-signs the vendor's TLS. A server asked without SNI presents its
 * default certificate, which need not name the address, so the certificate's own findings (name,
 * validity, links) are recorded in the detail and `data`, not judged.
 */
function interceptionVerdict(a: ReturnType<typeof analyseChain>): Pick<ProbeOutcome, 'status' | 'reason' | 'detail'> {
  if (a.truncated || a.interception) return verdict(a, 0);
  const notes = [
    a.leaf.hostnameMatch === false ? 'the certificate does not name this address' : '',
    !a.linksValid ? 'a link of the chain does not verify' : '',
    a.leaf.expired ? 'the certificate has expired' : '',
    a.leaf.notYetValid ? 'the certificate is not yet valid' : '',
  ].filter(Boolean);
  const issuer = a.anchor ? ` issued under ${a.anchor.subject} (${a.anchor.stores.join(', ')} store)` : '';
  if (!notes.length) return { ...because('TLS_OK'), detail: `handshake ok, chain of ${a.presented}${issuer}, no interception seen` };
  return { ...because('TLS_NOT_INTERCEPTED'), detail: `handshake ok, chain of ${a.presented}${issuer}: no interception seen (${notes.join('; ')}: recorded, not judged, since only interception is checked here)` };
}

