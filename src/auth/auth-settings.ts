/** What token verification needs; `config/` reads and checks it (DKE_AUTH_*). */
export interface AuthConfig {
  readonly audiences: readonly string[];
  readonly tenantIds: readonly string[];
  readonly issuers: readonly string[];
  readonly metadataUrl: string;
  readonly requiredScope: string;
  readonly clockSkewSeconds: number;
  readonly authorizationUrl: string;
}
