import type { EntraCloud } from '../auth/auth-settings.js';

/**
 * What DKE_AUTH_CLOUD names: Entra ID's clouds, their metadata, issuer hosts and challenge authorization URL
 * (Microsoft identity platform, "National clouds"; US Government keeps sts.windows.net for v1 tokens). Unset, the
 * cloud is recognised from the host of DKE_AUTH_METADATA_URL, so deployments that set only that keep their issuers.
 */
export const CLOUD_NAMES = ['public', 'usgov', 'china'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

const CLOUDS: Readonly<Record<CloudName, EntraCloud>> = {
  public: {
    name: 'public',
    v1: 'https://sts.windows.net',
    v2: 'https://login.microsoftonline.com',
    metadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
    // The reference service's value, byte for byte: Office clients of the public cloud are known to accept it.
    authorizationUrl: 'https://login.windows.net/common/oauth2/authorize',
  },
  usgov: {
    name: 'usgov',
    v1: 'https://sts.windows.net',
    v2: 'https://login.microsoftonline.us',
    metadataUrl: 'https://login.microsoftonline.us/common/v2.0/.well-known/openid-configuration',
    authorizationUrl: 'https://login.microsoftonline.us/common/oauth2/authorize',
  },
  china: {
    name: 'china',
    v1: 'https://sts.chinacloudapi.cn',
    v2: 'https://login.partner.microsoftonline.cn',
    metadataUrl: 'https://login.chinacloudapi.cn/common/v2.0/.well-known/openid-configuration',
    authorizationUrl: 'https://login.chinacloudapi.cn/common/oauth2/authorize',
  },
};

export const PUBLIC_CLOUD: EntraCloud = CLOUDS.public;

const CLOUD_BY_HOST: ReadonlyMap<string, EntraCloud> = new Map([
  ['login.microsoftonline.com', CLOUDS.public],
  ['login.windows.net', CLOUDS.public],
  ['login.microsoftonline.us', CLOUDS.usgov],
  ['login.partner.microsoftonline.cn', CLOUDS.china],
  ['login.chinacloudapi.cn', CLOUDS.china],
]);

/** The cloud a DKE_AUTH_CLOUD value names (any letter case), or undefined. */
export function cloudNamed(name: string): EntraCloud | undefined {
  const key = name.trim().toLowerCase();
  return (CLOUD_NAMES as readonly string[]).includes(key) ? CLOUDS[key as CloudName] : undefined;
}

/** The cloud whose sign-in host a URL (metadata, authorization) names; undefined for any other host. */
export function cloudOfUrl(url: string): EntraCloud | undefined {
  try {
    return CLOUD_BY_HOST.get(new URL(url).hostname.toLowerCase());
  } catch {
    return undefined;
  }
}

/** Every cloud, for tools that recognise an issuer without a configuration (dke doctor). */
export function allClouds(): readonly EntraCloud[] {
  return CLOUD_NAMES.map((name) => CLOUDS[name]);
}
