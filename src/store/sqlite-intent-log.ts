import type { Intent, IntentLog, NewIntent } from '../keys/ports.js';
import { adminWrite, type StoreDatabase } from './database.js';

interface IntentRow {
  id: number;
  action: Intent['action'];
  name: string;
  key_id: string;
  actor: string;
  owner: string;
  created_at: string;
  details: string;
}

/**
 * Unfinished admin steps that touch the token (issue 17): a row is written before the token is touched and deleted
 * in the transaction that records the outcome, so a row that outlives its command marks a step to finish or roll
 * back (`dke keys reconcile`, and the service at start).
 */
export class SqliteIntentLog implements IntentLog {
  readonly #db: StoreDatabase;

  constructor(db: StoreDatabase) {
    this.#db = db;
  }

  /** Runs `check` and writes the intent in one IMMEDIATE transaction; returns the refusal instead when there is one. */
  begin(intent: NewIntent, check: () => string | undefined): Intent | string {
    const write = this.#db.transaction((): Intent | string => {
      const problem = check();
      if (problem !== undefined) return problem;
      const details = JSON.stringify(intent.details ?? {});
      const { lastInsertRowid } = this.#db
        .prepare('INSERT INTO intents (action, name, key_id, actor, owner, created_at, details) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(intent.action, intent.name, intent.keyId, intent.actor, intent.owner, intent.createdAt, details);
      return { ...intent, id: Number(lastInsertRowid), details: intent.details ?? {} };
    });
    return this.#db.inTransaction ? write() : adminWrite(this.#db, () => write.immediate());
  }

  pending(): Intent[] {
    return (this.#db.prepare('SELECT * FROM intents ORDER BY id').all() as IntentRow[]).map((row) => ({
      id: row.id,
      action: row.action,
      name: row.name,
      keyId: row.key_id,
      actor: row.actor,
      owner: row.owner,
      createdAt: row.created_at,
      details: JSON.parse(row.details) as Intent['details'],
    }));
  }

  finish(id: number): void {
    this.#db.prepare('DELETE FROM intents WHERE id = ?').run(id);
  }
}
