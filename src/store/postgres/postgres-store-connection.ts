import { Kysely, PostgresDialect, type Transaction } from '../kysely.js';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { StoreRefused } from '../../keys/errors.js';
import { databaseLocation, describeDatabaseError, type DatabaseLocation } from './postgres-location.js';
import { PostgresSnapshots } from './postgres-snapshots.js';
import { GENESIS_HASH, migrationsFrom, SCHEMA_VERSION, type StoreTables } from '../schema.js';
import type { StoreConnection, TransactionOptions } from '../store-connection.js';
import { DatabaseUnreachable } from './database-unreachable.js';
import { CHANGE_CHANNEL, POSTGRES_COLUMNS, postgresDialect } from './postgres-dialect.js';

/** Taken by every process that migrates the schema (any 64-bit number; this one is "dke" and the schema's table). */
const MIGRATION_LOCK = 0x646b65_0001;
/** How long a connection attempt may take before the database counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5000;

export interface PostgresStoreOptions {
  /** DKE_STATE_STALENESS_SECONDS in ms: how long lookups answer from a snapshot the database could not confirm. */
  readonly stalenessMs: number;
  /** Told when the database stops or starts answering (the service logs it and rechecks readiness). */
  readonly onReachability?: (reachable: boolean, detail: string) => void;
  /**
   * The service: a database that cannot be reached at start is tried again in the background (readiness fails with
   * the sentence meanwhile) instead of refusing to start; a schema newer than the code still refuses. The CLI: refused.
   */
  readonly waitForDatabase?: boolean;
}

/** The database holds a schema this code does not know: nothing is guessed, the process refuses to start. */
export class SchemaNewerThanCode extends StoreRefused {}

/** How often a service that started without its database tries again. */
const RECONNECT_AT_START_MS = 2000;

export interface PostgresStoreConnection extends StoreConnection {
  readonly database: DatabaseLocation;
  readonly snapshots: PostgresSnapshots;
}

/**
 * The shared store of several instances (contract §5) in the PostgreSQL database of DKE_DATABASE_URL: a pool under
 * Kysely, the schema migrated (one process at a time, under an advisory lock), and the snapshot kept current by
 * LISTEN/NOTIFY plus a poll of the change counter. Refused with a sentence naming host and database (never the
 * password) when the database cannot be reached or its schema is newer than this code.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<PostgresStoreConnection> {
  const location = databaseLocation(url);
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types: { getTypeParser: numericBigints } });
  // An idle client whose server went away emits here; the next query reports it. Without a listener it would crash.
  pool.on('error', () => undefined);
  // A client the pool has lent out (a transaction between two statements) has no such listener: a server that resets
  // the connection then (a failover, a fast shutdown) would throw from the socket and end the process. The statement
  // in flight or the next one reports the failure instead, and the pool drops the broken client when it comes back.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<StoreTables>({ dialect: new PostgresDialect({ pool }) });
  const snapshots = new PostgresSnapshots({ url, db, location, stalenessMs: options.stalenessMs, ...(options.onReachability ? { onReachability: options.onReachability } : {}), channel: CHANGE_CHANNEL, typeParser: numericBigints });
  const open = async (): Promise<void> => {
    try {
      await migrate(pool, location, url);
      await snapshots.start();
    } catch (error) {
      if (error instanceof StoreRefused) throw error;
      const detail = describeDatabaseError(error, url);
      throw new StoreRefused(`${capitalised(location.sentence)} cannot be reached: ${detail}. Check DKE_DATABASE_URL and that the database server runs.`, detail);
    }
  };
  let retry: NodeJS.Timeout | undefined;
  let closed = false;
  try {
    await open();
  } catch (error) {
    if (options.waitForDatabase !== true || error instanceof SchemaNewerThanCode) {
      await snapshots.close();
      await db.destroy();
      throw error;
    }
    snapshots.notReadYet((error as StoreRefused).detail ?? (error as Error).message);
    options.onReachability?.(false, (error as Error).message);
    const again = (): void => {
      retry = setTimeout(() => {
        if (closed) return;
        open().then(
          () => options.onReachability?.(true, location.sentence),
          (failure: unknown) => {
            snapshots.notReadYet((failure as StoreRefused).detail ?? (failure as Error).message);
            if (!(failure instanceof SchemaNewerThanCode)) again();
          },
        );
      }, RECONNECT_AT_START_MS);
      retry.unref();
    };
    again();
  }
  return {
    dialect: postgresDialect,
    db,
    database: location,
    location: location.sentence,
    snapshots,
    transaction: async <T>(work: (trx: Transaction<StoreTables>) => Promise<T>, options: TransactionOptions = {}): Promise<T> => {
      try {
        const transaction = db.transaction();
        return await (options.consistentRead === true ? transaction.setIsolationLevel('repeatable read') : transaction).execute(work);
      } catch (error) {
        throw DatabaseUnreachable.from(error, location, url);
      }
    },
    translate: (error) => DatabaseUnreachable.from(error, location, url),
    close: async () => {
      closed = true;
      clearTimeout(retry);
      await snapshots.close();
      await db.destroy();
    },
  };
}

/** BIGINT (20) and NUMERIC counts come back as JavaScript numbers: seq and counters stay far below 2^53. */
function numericBigints(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === 20) return Number;
  return pg.types.getTypeParser(oid, format as 'text');
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Brings the schema up to SCHEMA_VERSION, each migration in its own transaction, while holding an advisory lock:
 * instances starting together migrate one after the other (the later ones find nothing left to do). A schema newer
 * than this code is refused.
 */
async function migrate(pool: pg.Pool, location: DatabaseLocation, url: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      const version = await schemaVersion(client);
      if (version > SCHEMA_VERSION) {
        throw new SchemaNewerThanCode(
          `${capitalised(location.sentence)} has schema version ${version}, newer than this dke-service understands (${SCHEMA_VERSION}); run the newer dke-service.`,
        );
      }
      for (const migration of migrationsFrom(version, POSTGRES_COLUMNS)) {
        await client.query('BEGIN');
        try {
          for (const statement of migration.statements) await client.query(statement);
          if (migration.version === 5) {
            await client.query('INSERT INTO store_meta (key, value) VALUES ($1, $2), ($3, $4) ON CONFLICT (key) DO NOTHING', ['store_id', randomUUID(), 'created_at', new Date().toISOString()]);
            await client.query('INSERT INTO audit_head (id, seq, hash, anchor_seq, anchor_hash) VALUES (1, 0, $1, 0, $1) ON CONFLICT (id) DO NOTHING', [GENESIS_HASH]);
          }
          await client.query("INSERT INTO store_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(migration.version)]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new StoreRefused(`${capitalised(location.sentence)} could not be migrated to schema version ${migration.version}: ${describeDatabaseError(error, url)}.`);
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

/** The schema version recorded in store_meta; 0 for an empty database. */
async function schemaVersion(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ exists: string | null }>("SELECT to_regclass('store_meta') AS exists");
  if (rows[0]?.exists === null || rows[0]?.exists === undefined) return 0;
  const version = await client.query<{ value: string }>("SELECT value FROM store_meta WHERE key = 'schema_version'");
  return Number(version.rows[0]?.value ?? 0);
}

