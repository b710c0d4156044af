import { isKeyState, type KeyState } from '../../keys/key-version.js';
import { isTransitionAllowed } from '../../keys/lifecycle.js';
import type { AuditEntry } from '../../keys/ports.js';
import type { StoreDatabase } from './database.js';
import { normaliseGrant } from '../key-records.js';

/**
 * Re-applies the key changes that audit entries record (what `dke store restore` does with the entries written
 * after a backup), so a restored store never brings back a state the trail says was left: a version set Compromised
 * after the backup is Compromised again, a disabled one disabled, a revoked user revoked. A recorded move the state
 * table refuses from the restored state is skipped and counted, never forced. Returns the entries applied.
 */
export function reapplyRecordedChanges(db: StoreDatabase, entries: readonly AuditEntry[]): { applied: number; skipped: number } {
  let applied = 0;
  let skipped = 0;
  for (const entry of entries) {
    if (entry.outcome !== 'succeeded' || entry.keyName === undefined) continue;
    const outcome = applyOne(db, entry);
    if (outcome === 'applied') applied += 1;
    else if (outcome === 'skipped') skipped += 1;
  }
  return { applied, skipped };
}

function applyOne(db: StoreDatabase, entry: AuditEntry): 'applied' | 'skipped' | 'not-a-change' {
  const name = entry.keyName!;
  const keyId = entry.keyId;
  const details = entry.details ?? {};
  const state = (): KeyState | undefined =>
    keyId === undefined ? undefined : (db.prepare('SELECT state FROM key_versions WHERE name = ? AND key_id = ?').get(name, keyId) as { state: KeyState } | undefined)?.state;
  switch (entry.action) {
    case 'create':
    case 'rotate':
    case 'import': {
      if (keyId === undefined || state() !== undefined) return 'skipped';
      const initial = typeof details.state === 'string' && isKeyState(details.state) ? details.state : 'active';
      const nameExists = db.prepare('SELECT 1 FROM key_names WHERE name = ?').get(name) !== undefined;
      if (!nameExists) db.prepare('INSERT INTO key_names (name, published_key_id, created_at) VALUES (?, NULL, ?)').run(name, entry.at);
      const seq = (db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM key_versions').get() as { s: number }).s;
      db.prepare(
        `INSERT INTO key_versions (name, key_id, state, enabled, origin, created_at, state_changed_at, seq) VALUES (?, ?, ?, 1, ?, ?, ?, ?)`,
      ).run(name, keyId, initial, entry.action === 'import' ? 'imported' : 'generated', entry.at, entry.at, seq);
      const publish = entry.action !== 'import' || details.published === true || (details.published === undefined && !nameExists);
      if (publish) db.prepare('UPDATE key_names SET published_key_id = ? WHERE name = ?').run(keyId, name);
      return 'applied';
    }
    case 'set-state':
    case 'delete':
    case 'reconcile': {
      // A reconcile entry that finished an interrupted set-state or delete carries the move it made.
      if (entry.action === 'reconcile' && details.result !== 'finished') return 'not-a-change';
      const to = details.to;
      const from = state();
      if (typeof to !== 'string' || !isKeyState(to) || from === undefined) return 'skipped';
      if (from === to) return 'applied';
      if (!isTransitionAllowed(from, to)) return 'skipped';
      db.prepare('UPDATE key_versions SET state = ?, state_changed_at = ? WHERE name = ? AND key_id = ?').run(to, entry.at, name, keyId);
      return 'applied';
    }
    case 'enable':
    case 'disable': {
      if (state() === undefined) return 'skipped';
      db.prepare('UPDATE key_versions SET enabled = ?, state_changed_at = ? WHERE name = ? AND key_id = ?').run(entry.action === 'enable' ? 1 : 0, entry.at, name, keyId);
      return 'applied';
    }
    case 'grant':
    case 'revoke': {
      const { kind, value } = details;
      if (typeof kind !== 'string' || typeof value !== 'string' || db.prepare('SELECT 1 FROM key_names WHERE name = ?').get(name) === undefined) return 'skipped';
      if (kind !== 'users' && kind !== 'groups' && kind !== 'roles') return 'skipped';
      const normalised = normaliseGrant(kind, value);
      if (entry.action === 'grant') db.prepare('INSERT OR IGNORE INTO grants (name, kind, value) VALUES (?, ?, ?)').run(name, kind, normalised);
      else db.prepare('DELETE FROM grants WHERE name = ? AND kind = ? AND value = ?').run(name, kind, normalised);
      return 'applied';
    }
    default:
      return 'not-a-change';
  }
}
