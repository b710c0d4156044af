import { existsSync, renameSync, rmSync } from 'node:fs';
import { AdminRefused } from '../../keys/errors.js';
import type { AuditEvent } from '../../keys/ports.js';
import { describeSqliteError, storePath } from './database.js';
import { reapplyRecordedChanges } from './recorded-changes.js';
import type { AuditRow } from '../audit-chain.js';
import { appendAuditEntries, toEntry } from '../audit-entries.js';
import { StoreAuditTrail } from '../audit-trail.js';
import type { BackupResult, RestoreResult } from '../store-engine.js';
import { openSqliteStoreFile, type SqliteStoreConnection } from './sqlite-store-connection.js';

/**
 * A consistent copy of the store while the service runs (SQLite's online backup), with an audit entry written first
 * so the copy's own trail says when it was taken.
 */
export async function backupStore(dataDir: string, file: string, actor: string): Promise<BackupResult> {
  if (existsSync(file)) throw new AdminRefused(`${file} exists already; give a new file name for the backup.`);
  const store = openSqliteStoreFile(storePath(dataDir), { role: 'admin' });
  try {
    const audit = new StoreAuditTrail(store);
    await audit.append({ actor, action: 'store-backup', outcome: 'succeeded', details: { file } });
    await store.file.backup(file);
    const { head } = await audit.verify();
    return { file, auditHead: head };
  } finally {
    await store.close();
  }
}

/**
 * Replaces the store with a backup. A backup whose trail ends before the current one would hide entries (and the
 * changes they record), so it is refused unless `force`; forced, every entry written after the backup is carried
 * into the restored store unchanged (the chain goes on), and the key changes they record are re-applied: a version
 * set Compromised after the backup never comes back Active. The service must be restarted afterwards (while it runs,
 * it notices the replaced file: readiness fails and decrypts are refused).
 */
export async function restoreStore(dataDir: string, backupFile: string, options: { readonly force: boolean; readonly actor: string }): Promise<RestoreResult> {
  const target = storePath(dataDir);
  const staging = `${target}.restoring`;
  rmSync(staging, { force: true });
  const backup = openSqliteStoreFile(backupFile, { role: 'admin' });
  try {
    const verdict = await new StoreAuditTrail(backup).verify();
    if (!verdict.ok) throw new AdminRefused(`The backup ${backupFile} does not verify (${verdict.problem}); it is not restored.`);
    backup.file.exec(`VACUUM INTO '${staging.replaceAll("'", "''")}'`);
  } finally {
    await backup.close();
  }
  const restored = openSqliteStoreFile(staging, { role: 'admin' });
  let closed = false;
  try {
    const backupHead = (await new StoreAuditTrail(restored).verify()).head;
    const current = await readCurrentTrail(target, backupHead);
    const hidden = current.head === undefined ? 0 : current.head.seq - backupHead.seq;
    if (!options.force && (current.problem !== undefined || hidden !== 0)) {
      throw new AdminRefused(
        current.problem !== undefined
          ? `The current store's trail cannot be compared with the backup (${current.problem}); restore with --force to replace it anyway.`
          : hidden > 0
            ? `The backup ends at audit entry ${backupHead.seq}, the store's trail at ${current.head!.seq}: restoring it would hide ${hidden} entries. Restore with --force: the changes they record are re-applied and the entries kept.`
            : `The backup's trail (entry ${backupHead.seq}) is ahead of the store's (entry ${current.head!.seq}): it is not a backup of this store as it is now. Restore with --force to replace it anyway.`,
      );
    }
    const result = await restored.transaction(async (trx) => {
      const last = current.later.at(-1);
      if (last !== undefined) await trx.updateTable('audit_head').set({ seq: last.seq, hash: last.hash }).where('id', '=', 1).execute();
      for (const row of current.later) await trx.insertInto('audit').values(row).execute();
      // SQLite only, on the transaction's own connection: the recorded changes re-applied inside it.
      const changes = reapplyRecordedChanges(restored.file, current.later.map(toEntry));
      const event: AuditEvent = {
        actor: options.actor,
        action: 'store-restore',
        outcome: 'succeeded',
        details: {
          backup: backupFile,
          backupHeadSeq: backupHead.seq,
          replacedHeadSeq: current.head?.seq ?? null,
          replacedHeadHash: current.head?.hash ?? null,
          entriesCarried: current.later.length,
          changesReapplied: changes.applied,
          changesSkipped: changes.skipped,
          forced: options.force,
          ...(current.problem !== undefined ? { replacedStoreProblem: current.problem } : {}),
        },
      };
      await appendAuditEntries(trx, [{ at: new Date().toISOString(), event }]);
      return {
        backupHead,
        ...(current.head !== undefined ? { replacedHead: current.head } : {}),
        entriesCarried: current.later.length,
        changesReapplied: changes.applied,
        changesSkipped: changes.skipped,
      };
    });
    restored.file.pragma('wal_checkpoint(TRUNCATE)');
    await restored.close();
    closed = true;
    for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true });
    renameSync(staging, target);
    return result;
  } catch (error) {
    if (!closed) await restored.close();
    rmSync(staging, { force: true });
    throw error;
  }
}

interface CurrentTrail {
  readonly head?: { readonly seq: number; readonly hash: string };
  /** Entries after the backup's head, when the backup's trail is a prefix of this one. */
  readonly later: readonly AuditRow[];
  readonly problem?: string;
}

/** The current store's trail after the backup's head; a problem when it is unreadable or went another way. */
async function readCurrentTrail(target: string, backupHead: { seq: number; hash: string }): Promise<CurrentTrail> {
  if (!existsSync(target)) return { later: [] };
  let store: SqliteStoreConnection | undefined;
  try {
    store = openSqliteStoreFile(target, { role: 'admin' });
    const verdict = await new StoreAuditTrail(store).verify();
    if (!verdict.ok) return { head: verdict.head, later: [], problem: `its trail is broken: ${verdict.problem}` };
    if (verdict.head.seq < backupHead.seq) return { head: verdict.head, later: [] };
    const atBackupHead = await store.db.selectFrom('audit').select('hash').where('seq', '=', backupHead.seq).executeTakeFirst();
    const linked = backupHead.seq === 0 || atBackupHead?.hash === backupHead.hash;
    if (!linked) return { head: verdict.head, later: [], problem: `its trail does not continue the backup's at entry ${backupHead.seq}` };
    const later = (await store.db.selectFrom('audit').selectAll().where('seq', '>', backupHead.seq).orderBy('seq').execute()) as AuditRow[];
    return { head: verdict.head, later };
  } catch (error) {
    return { later: [], problem: error instanceof Error && !('code' in error) ? error.message : describeSqliteError(error) };
  } finally {
    await store?.close();
  }
}
