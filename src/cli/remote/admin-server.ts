import { AdminRefused } from '../../app/admin-vocabulary.js';
import { adminClientSettings } from '../../main/settings.js';

/**
 * Which admin API the admin verbs talk to (contract §10): `dke --server URL` or DKE_ADMIN_URL, else none (the verbs
 * open the local store and HSM, as always). Set once per command by program.ts before the action runs.
 */
let chosen: string | undefined;

/** Kept as given: only the admin verbs read it (adminServer), so a malformed DKE_ADMIN_URL never stops `dke serve`. */
export function chooseAdminServer(option: string | undefined): void {
  chosen = option ?? adminClientSettings().adminUrl;
}

/** The chosen admin API, or undefined in local mode. */
export function adminServer(): string | undefined {
  return chosen === undefined ? undefined : adminServerUrl(chosen);
}

/**
 * The admin listener's origin (with any path prefix a reverse proxy adds) from what an operator pastes: the listener's
 * URL, the console's (`…/admin/`) or the API's (`…/admin/api`). Only http and https.
 */
export function adminServerUrl(given: string): string {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new AdminRefused(`--server must be the URL of the admin API (such as https://dke-admin.contoso.com), not "${given.slice(0, 80)}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AdminRefused('--server must be an http or https URL.');
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') throw new AdminRefused('--server takes the URL of the admin API only: no user, query or fragment.');
  const path = url.pathname.replace(/\/+$/, '').replace(/\/admin(\/api)?$/, '');
  return `${url.origin}${path}`;
}
