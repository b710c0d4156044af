/**
 * What the console reads before it signs anyone in (GET /admin/config.json): nothing secret, a public client's
 * settings. The one definition of that answer: the service builds it (console-routes.ts) and the page reads it
 * (web/src/sign-in.ts imports this type), so neither side can drift.
 */
export interface ConsoleSettings {
  readonly clientId: string | null;
  readonly authority: string;
  readonly authorizeUrl: string;
  readonly tokenUrl: string;
  readonly scope: string;
  /** The DKE service's URL that a sensitivity label names, without the key name. */
  readonly labelBaseUrl: string;
}
