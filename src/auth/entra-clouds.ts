/**
 * Entra ID's clouds and the issuers of their access tokens. A tenant's v1 tokens say `{v1}/{tid}/` and its v2 tokens
 * `{v2}/{tid}/v2.0`; the hosts differ per national cloud (Microsoft identity platform, "National clouds";
 * US Government keeps sts.windows.net for v1). The cloud is recognised from the host of DKE_AUTH_METADATA_URL, so
 * a sovereign deployment needs only its tenant ids and its metadata URL.
 */
export interface EntraCloud {
  readonly name: string;
  /** Origin of v1 token issuers. */
  readonly v1: string;
  /** Origin of v2 token issuers. */
  readonly v2: string;
}

export const PUBLIC_CLOUD: EntraCloud = { name: 'public', v1: 'https://sts.windows.net', v2: 'https://login.microsoftonline.com' };
const US_GOVERNMENT: EntraCloud = { name: 'us-government', v1: 'https://sts.windows.net', v2: 'https://login.microsoftonline.us' };
const CHINA: EntraCloud = { name: 'china', v1: 'https://sts.chinacloudapi.cn', v2: 'https://login.partner.microsoftonline.cn' };

const CLOUD_BY_METADATA_HOST: ReadonlyMap<string, EntraCloud> = new Map([
  ['login.microsoftonline.com', PUBLIC_CLOUD],
  ['login.windows.net', PUBLIC_CLOUD],
  ['login.microsoftonline.us', US_GOVERNMENT],
  ['login.partner.microsoftonline.cn', CHINA],
  ['login.chinacloudapi.cn', CHINA],
]);

/**
 * The cloud whose metadata `metadataUrl` points at. Any other host (a proxy, the loopback development issuer) is
 * taken as the public cloud: further issuers then go in DKE_AUTH_ISSUERS.
 */
export function cloudOfMetadataUrl(metadataUrl: string): EntraCloud {
  let host: string;
  try {
    host = new URL(metadataUrl).hostname.toLowerCase();
  } catch {
    return PUBLIC_CLOUD;
  }
  return CLOUD_BY_METADATA_HOST.get(host) ?? PUBLIC_CLOUD;
}

/** The exact v1 and v2 issuers of a tenant in a cloud. */
export function tenantIssuers(cloud: EntraCloud, tenantId: string): readonly [v1: string, v2: string] {
  return [`${cloud.v1}/${tenantId}/`, `${cloud.v2}/${tenantId}/v2.0`];
}
