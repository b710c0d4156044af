import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What `dke --server`, `dke login` and `dke logout` read from the operator's environment (contract §10): these are the
 * CLI's, on the operator's machine, not the service's. Read here, as every setting (config/ alone reads the environment).
 */
export interface AdminClientSettings {
  /** DKE_ADMIN_URL: the admin API the admin verbs go to when `--server` is not given. */
  readonly adminUrl?: string;
  /** DKE_ADMIN_CLIENT_ID: the client to sign in as (a pipeline's app registration); else the one the service names. */
  readonly clientId?: string;
  /** DKE_ADMIN_CLIENT_SECRET_FILE: a pipeline's client secret, for the client credentials grant. */
  readonly clientSecretFile?: string;
  /** `$XDG_CONFIG_HOME/dke`, else `~/.config/dke`: where the signed-in tokens are cached. */
  readonly configFolder: string;
}

export function adminClientSettings(env: NodeJS.ProcessEnv = process.env): AdminClientSettings {
  const value = (name: string): string | undefined => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!.trim());
  const adminUrl = value('DKE_ADMIN_URL');
  const clientId = value('DKE_ADMIN_CLIENT_ID');
  const clientSecretFile = value('DKE_ADMIN_CLIENT_SECRET_FILE');
  return {
    ...(adminUrl !== undefined ? { adminUrl } : {}),
    ...(clientId !== undefined ? { clientId } : {}),
    ...(clientSecretFile !== undefined ? { clientSecretFile } : {}),
    configFolder: join(value('XDG_CONFIG_HOME') ?? join(homedir(), '.config'), 'dke'),
  };
}
