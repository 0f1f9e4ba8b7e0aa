/**
 * The description of the `http` kind (its prober: ../probers/http.ts, loaded when a run has
 * a probe of this kind).
 */
import type { KindDescriptor, OptionSchemas, OptionsOf, ProxyScheme, SchemeInput } from './kind.js';

const STATUS_LIST = { type: 'array', items: { type: 'integer', minimum: 100, maximum: 599 }, minItems: 1 } as const;

const OPTIONS = {
  scheme: { enum: ['http', 'https'] },
  method: { enum: ['GET', 'HEAD'] },
  path: { type: 'string', pattern: '^/' },
  expectStatus: { ...STATUS_LIST, description: 'Statuses that count as ok. Default: any HTTP response proves the path is open.' },
  blockStatuses: { ...STATUS_LIST, description: 'Statuses that mean a block page (e.g. 403, 451 for a geo-block): reported as refused, HTTP_BLOCKED.' },
} as const satisfies OptionSchemas;

/** The options of an http probe. */
export type HttpOptions = OptionsOf<typeof OPTIONS>;

/** `scheme`, or https on port 443 and http elsewhere. */
export function httpScheme(spec: SchemeInput<HttpOptions>): ProxyScheme {
  return spec.options.scheme === 'https' || (spec.options.scheme === undefined && spec.port === 443) ? 'https' : 'http';
}

/** http: an HTTP request, timed phase by phase; any response proves the path unless `expectStatus` narrows it. */
export const kind: KindDescriptor<HttpOptions> = {
  name: 'http',
  summary: 'an HTTP response arrives (through the proxy, when there is one)',
  transport: 'tcp',
  target: 'host:port',
  everyAddress: true,
  proxy: { scheme: httpScheme, compareDirect: true },
  options: OPTIONS,
  flags: [
    { name: 'scheme', option: 'scheme', type: 'string', choices: ['http', 'https'], describe: 'scheme (default: https on 443)' },
    { name: 'path', option: 'path', type: 'string', describe: 'request path' },
    { name: 'method', option: 'method', type: 'string', choices: ['GET', 'HEAD'], describe: 'method' },
  ],
};
