/** What token verification needs; `config/` reads and checks it (DKE_AUTH_*). */
export interface AuthConfig {
  readonly audiences: readonly string[];
  readonly tenantIds: readonly string[];
  readonly issuers: readonly string[];
  readonly metadataUrl: string;
  readonly requiredScope: string;
  readonly clockSkewSeconds: number;
  readonly authorizationUrl: string;
  /** The Entra cloud whose issuers DKE_AUTH_TENANT_IDS admit (DKE_AUTH_CLOUD; config/entra-clouds.ts lists them). */
  readonly cloud: EntraCloud;
}

/**
 * One Entra ID cloud: where its OpenID metadata lives, the origins of its token issuers, and the authorization URL
 * Office is sent to by the 401 challenge. A tenant's v1 tokens say `{v1}/{tid}/` and its v2 tokens `{v2}/{tid}/v2.0`.
 */
export interface EntraCloud {
  /** The DKE_AUTH_CLOUD value: public, usgov or china. */
  readonly name: string;
  /** Origin of v1 token issuers. */
  readonly v1: string;
  /** Origin of v2 token issuers. */
  readonly v2: string;
  /** Multi-tenant OpenID metadata of the cloud (the default of DKE_AUTH_METADATA_URL). */
  readonly metadataUrl: string;
  /** `authorization` of the 401 challenge (the default of DKE_AUTH_AUTHORIZATION_URL). */
  readonly authorizationUrl: string;
}

/** HTTPS_PROXY, HTTP_PROXY, NO_PROXY as configured (each undefined when unset), for the metadata and key fetches. */
export interface OutboundProxyConfig {
  readonly httpsProxy?: string;
  readonly httpProxy?: string;
  readonly noProxy?: string;
}

/** The exact v1 and v2 issuers of a tenant in a cloud (no prefix or host matching anywhere). */
export function tenantIssuers(cloud: Pick<EntraCloud, 'v1' | 'v2'>, tenantId: string): readonly [v1: string, v2: string] {
  return [`${cloud.v1}/${tenantId}/`, `${cloud.v2}/${tenantId}/v2.0`];
}
