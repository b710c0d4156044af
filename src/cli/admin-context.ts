import { userInfo } from 'node:os';
import { KeyLifecycle } from '../app/key-lifecycle.js';
import type { Config } from '../config/config.js';
import type { KeyVault } from '../keys/ports.js';
import { openHsm, type OpenHsm } from '../hsm/open-hsm.js';
import { openStoreDatabase } from '../store/database.js';
import { SqliteAuditTrail } from '../store/sqlite-audit-trail.js';
import { SqliteKeyStore } from '../store/sqlite-key-store.js';

export interface AdminContext {
  readonly admin: KeyLifecycle;
  readonly store: SqliteKeyStore;
  readonly audit: SqliteAuditTrail;
  readonly hsm: OpenHsm | undefined;
  close(): Promise<void>;
}

/** Who runs a CLI command, for the audit trail: DKE_ADMIN_ACTOR when set (an admin identity), else the OS user. */
export function cliActor(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.DKE_ADMIN_ACTOR?.trim();
  if (configured) return configured.slice(0, 200);
  try {
    return `os:${userInfo().username}`;
  } catch {
    return 'os:unknown';
  }
}

/**
 * Opens the same store and HSM as the service, through the same code, for one CLI command. `withHsm: false` serves
 * commands that only read the store (list, show, audit), so they work while the token is unreachable.
 */
export function openAdminContext(config: Config, withHsm: boolean): AdminContext {
  const db = openStoreDatabase(config.dataDir, 'admin');
  let hsm: OpenHsm | undefined;
  try {
    hsm = withHsm ? openHsm(config.pkcs11, config.dataDir) : undefined;
  } catch (error) {
    db.close();
    throw error;
  }
  const store = new SqliteKeyStore(db);
  const audit = new SqliteAuditTrail(db);
  const vault = hsm?.vault ?? unavailableVault();
  const admin = new KeyLifecycle({ store, vault, audit, actor: cliActor() });
  return {
    admin,
    store,
    audit,
    hsm,
    close: async () => {
      await hsm?.close();
      db.close();
    },
  };
}

function unavailableVault(): KeyVault {
  return new Proxy({} as KeyVault, {
    get: () => () => Promise.reject(new Error('This command does not open the HSM.')),
  });
}
