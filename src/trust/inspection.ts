/**
 * Issuer names used by TLS-inspection products (secure web gateways, next-generation firewalls,
 * endpoint security suites, debugging proxies). A certificate in the chain issued by one of these
 * means the connection was re-signed on the way, whatever the trust stores say.
 *
 * Patterns are deliberately specific: "Symantec" alone also names a (distrusted) public CA, so only
 * Blue Coat / ProxySG names count; "Cloudflare" alone is a public CA too, so only its Gateway CA counts.
 */
export interface InspectionProduct {
  product: string;
  /** Matched against the subject and issuer DNs of every certificate above the leaf, and the leaf's issuer. */
  pattern: RegExp;
}

export const INSPECTION_PRODUCTS: readonly InspectionProduct[] = [
  { product: 'Zscaler', pattern: /zscaler/i },
  { product: 'Palo Alto Networks', pattern: /palo ?alto|pan-?os|prisma access/i },
  { product: 'Fortinet FortiGate', pattern: /fortinet|fortigate|fortiproxy/i },
  { product: 'Blue Coat / Symantec ProxySG', pattern: /blue ?coat|proxysg|symantec (web security|ssl visibility)/i },
  { product: 'Netskope', pattern: /netskope/i },
  { product: 'Cisco Umbrella', pattern: /cisco umbrella|opendns/i },
  { product: 'Cisco (Firepower / WSA)', pattern: /firepower|ironport|cisco (web security|wsa)/i },
  { product: 'Sophos', pattern: /sophos/i },
  { product: 'Check Point', pattern: /check ?point/i },
  { product: 'Forcepoint / Websense', pattern: /forcepoint|websense/i },
  { product: 'Barracuda', pattern: /barracuda/i },
  { product: 'McAfee / Skyhigh Web Gateway', pattern: /mcafee web gateway|skyhigh/i },
  { product: 'SonicWall', pattern: /sonicwall/i },
  { product: 'WatchGuard', pattern: /watchguard/i },
  { product: 'iboss', pattern: /\biboss\b/i },
  { product: 'Menlo Security', pattern: /menlo security/i },
  { product: 'Cato Networks', pattern: /cato networks/i },
  { product: 'Cloudflare Gateway', pattern: /cloudflare (for teams|gateway)|gateway ca - cloudflare/i },
  { product: 'Kaspersky', pattern: /kaspersky/i },
  { product: 'ESET SSL filter', pattern: /eset ssl filter/i },
  { product: 'Avast / AVG', pattern: /avast|\bavg\b (web|mail)/i },
  { product: 'Bitdefender', pattern: /bitdefender/i },
  { product: 'Untangle', pattern: /untangle/i },
  { product: 'Lightspeed Systems', pattern: /lightspeed/i },
  { product: 'Fiddler', pattern: /fiddler/i },
  { product: 'mitmproxy', pattern: /mitmproxy/i },
  { product: 'Charles Proxy', pattern: /charles proxy/i },
  { product: 'Burp Suite', pattern: /portswigger|burp/i },
];

/** The first inspection product whose pattern matches one of the names. */
export function inspectionProductOf(names: string[]): { product: string; name: string } | undefined {
  for (const p of INSPECTION_PRODUCTS) {
    for (const n of names) if (p.pattern.test(n)) return { product: p.product, name: n };
  }
  return undefined;
}
