/**
 * What a probe kind is, as data: the one description each kind has in this folder
 * (`export const kind`), beside its prober in ../probers/. Every list that once named kinds by
 * hand — which kinds take ports or URLs, which go through a proxy, which are UDP, which measure
 * timers, the catalog's per-kind options, the `probe` command's flags — is derived from these
 * descriptions (../probers/index.ts).
 *
 * Descriptions are apart from their probers so that they stay cheap: every command reads all of
 * them (the catalog schema, the `probe` flags), while a run imports only the probers of the kinds
 * it has, with their libraries (undici, ws, the X.509 stack), before its first deadline starts.
 */
import type { ProbeSpec } from '../types.js';
import type { OptionSchemas } from '../util/json-schema.js';

export type { OptionSchemas, OptionsOf } from '../util/json-schema.js';

/** The transport of a kind's packets towards its target; `none` sends nothing to a port of it. */
export type Transport = 'tcp' | 'udp' | 'none';

/**
 * The form of a kind's targets: `host:port` (a host, address or range, with the line's ports),
 * `host` (a name, no port: dns), `url` (ocsp, crl) or `list` (an address list, nothing sent).
 */
export type TargetForm = 'host:port' | 'host' | 'url' | 'list';

/** The scheme a proxy would see: `https` (CONNECT) or `http` (absolute-form). */
export type ProxyScheme = 'http' | 'https';

/** The fields of a spec a kind's proxy scheme may depend on. */
export type SchemeInput<O extends object = Record<string, unknown>> = Pick<ProbeSpec<O>, 'options' | 'port'>;

/** A JSON Schema (draft-07) fragment, as the catalog schema embeds it. */
export type JsonSchema = Readonly<Record<string, unknown>>;


/** A flag of `netcheck probe KIND` that sets one check option. */
export interface ProbeFlag {
  /** The flag without dashes, e.g. `expect-issuer`. */
  readonly name: string;
  /** The check option it sets, e.g. `expectIssuers`. */
  readonly option: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly choices?: readonly string[];
  /** yargs `array: true`: only for flags followed by no positional (a greedy array swallows them). */
  readonly array?: boolean;
  /** The help text, without the kinds (`tls: ` is prefixed from the kinds that declare the flag). */
  readonly describe: string;
  /**
   * The option's value from the flag's, or throw a UsageError naming the flag. Absent: the value
   * as given. May load what it needs (a certificate parser) when the flag is given.
   */
  readonly parse?: (value: unknown) => unknown;
}

/**
 * One probe kind. `O`: what its probes' `options` hold — its catalog options ({@link OptionsOf} of
 * `options`), plus what plan code adds (a URL target, resolved address lists, milliseconds).
 */
export interface KindDescriptor<O extends object = Record<string, unknown>> {
  /** The name catalogs and the command line use, e.g. `tcp`, `ws-hold`. */
  readonly name: string;
  /** What a probe of this kind proves, in one line. */
  readonly summary: string;
  readonly transport: Transport;
  readonly target: TargetForm;
  /** `ok` proves only that a TCP handshake completed (which an intercepting middlebox can fake). */
  readonly handshakeOnly?: boolean;
  /** A name is probed at every address it resolves to (IPv6 without a route is skipped). */
  readonly everyAddress?: boolean;
  /**
   * Kinds that can go through an HTTP proxy: the scheme the proxy would see, and whether
   * `--compare-direct` also runs the probe directly (otherwise the result only notes its route).
   */
  readonly proxy?: { readonly scheme: (spec: SchemeInput<O>) => ProxyScheme; readonly compareDirect: boolean };
  /** Holds a flow for minutes: its statuses speak of idle timers, not of reachability. Implies `long`. */
  readonly timer?: boolean;
  /** false: a failure of this kind is not traced (a NAT classification is no path to locate). */
  readonly trace?: false;
  /** Runs for seconds by design (a stream, several exchanges): not for a scrape, which must answer within Prometheus' timeout. */
  readonly long?: boolean;
  /** Measures an idle timer of this protocol against a reflector (a catalog `timers` entry). */
  readonly idle?: { readonly protocol: 'tcp' | 'udp' | 'ws'; readonly defaultPort: number };
  /** The check options a catalog may give, as JSON Schema properties (unknown keys are errors). */
  readonly options: OptionSchemas;
  /** The `probe` command's flags of this kind. */
  readonly flags?: readonly ProbeFlag[];
  /** Checks between flags of `probe` (after each was parsed); throws a UsageError. */
  readonly checkFlags?: (argv: Record<string, unknown>) => void;
  /**
   * The deadline covers a hold of minutes: opening the flow gets the run's `--timeout` instead
   * (`ProbeSpec.setupTimeoutMs`), so a dropped SYN is not waited on for the whole hold.
   */
  readonly setupTimeout?: boolean;
  /** The deadline a check's options imply, instead of `--timeout` (the kinds that hold flows). */
  readonly deadlineMs?: (options: O) => number;
}
