import type { OptionSchemas, OptionsOf } from './kind.js';

/** Catalog options of the WebSocket kinds (ws-hold, ws-idle). */
export const WS_OPTIONS = {
  tls: { type: 'boolean', description: 'wss instead of ws (default: wss on port 443).' },
  path: { type: 'string', pattern: '^/', description: 'Request path (default /netcheck, the reflector endpoint).' },
  fingerprint: { type: 'string', pattern: '^(sha256[:/])?[0-9A-Fa-f:]{64,95}$', description: "Pin the server certificate's SHA-256 fingerprint (a reflector's self-signed one)." },
} as const satisfies OptionSchemas;

/** The options the WebSocket kinds share. */
export type WsOptions = OptionsOf<typeof WS_OPTIONS>;
