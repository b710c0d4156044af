import Database from 'better-sqlite3';
import { realpathSync } from 'node:fs';
import { Kysely, SqliteDialect, type Driver, type Transaction } from '../kysely.js';
import { StoreUnavailable } from '../../keys/errors.js';
import { describeSqliteError, openStoreFile, storePath, type OpenStoreOptions, type StoreDatabase } from './database.js';
import { SNAPSHOT_QUERIES, snapshotFrom, type StoreSnapshot } from '../key-records.js';
import type { StoreTables } from '../schema.js';
import type { SnapshotSource, StoreConnection, TransactionOptions } from '../store-connection.js';
import { sqliteDialect } from './sqlite-dialect.js';

/** How long an admin write made through the service (the admin API) may wait for a lock another process holds. */
const SERVICE_ADMIN_LOCK_WAIT_MS = 1000;

/** The embedded store in `dataDir` (or any store file), opened for the service or one CLI command. */
export interface SqliteStoreConnection extends StoreConnection {
  /** The file's own connection, for what only SQLite has (online backup, the store's identity). */
  readonly file: StoreDatabase;
  readonly path: string;
}

export function openSqliteStore(dataDir: string, options: OpenStoreOptions): SqliteStoreConnection {
  return openSqliteStoreFile(storePath(dataDir), options);
}

/**
 * The writer connection (migrated at open, WAL, synchronous=FULL) under Kysely, and a second, read-only connection
 * for the snapshot: it never sees a transaction still open on the writer, and `data_version` on it changes when any
 * other connection, this process's writer included, commits.
 */
export function openSqliteStoreFile(given: string, options: OpenStoreOptions): SqliteStoreConnection {
  const file = openStoreFile(given, options);
  const path = realpathSync(given);
  const service = options.role === 'service';
  let reader: StoreDatabase;
  try {
    reader = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    file.close();
    throw error;
  }
  const snapshots = new SqliteSnapshots(reader);
  const db = new Kysely<StoreTables>({ dialect: new StoreSqliteDialect(file) });
  return {
    dialect: sqliteDialect,
    db,
    file,
    path,
    location: `the store ${path}`,
    snapshots,
    translate: (error) => error,
    transaction: async <T>(work: (trx: Transaction<StoreTables>) => Promise<T>, transactionOptions: TransactionOptions = {}): Promise<T> => {
      const wait = service && transactionOptions.waitForLock === true;
      return oneAtATime(path, async () => {
        if (wait) file.pragma(`busy_timeout = ${SERVICE_ADMIN_LOCK_WAIT_MS}`);
        try {
          return await db.transaction().execute(work);
        } finally {
          if (wait) file.pragma('busy_timeout = 0');
        }
      });
    },
    close: async () => {
      await snapshots.close();
      await db.destroy();
    },
  };
}

/**
 * Kysely's SQLite dialect, except that a rollback is only sent while a transaction is open: SQLite itself rolls back
 * on some errors (SQLITE_FULL, SQLITE_IOERR), and the "no transaction is active" of a second rollback would otherwise
 * replace the cause an operator needs to see.
 */
class StoreSqliteDialect extends SqliteDialect {
  readonly #file: StoreDatabase;

  constructor(file: StoreDatabase) {
    super({ database: withStatementCache(file) });
    this.#file = file;
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection) => {
      if (this.#file.inTransaction) await rollback(connection);
    };
    return driver;
  }
}

/** Distinct statements kept prepared per connection (the store's queries are a few dozen texts; batches add some). */
const STATEMENT_CACHE_LIMIT = 1000;

/**
 * The connection as Kysely's driver sees it, with its statements prepared once per SQL text: the driver prepares
 * every query anew, which cost the decrypt path's main thread more than the query itself (docs/benchmarks.md, Performance).
 * better-sqlite3 statements are reusable (all/run), and re-prepared by SQLite itself after a schema change.
 */
function withStatementCache(file: StoreDatabase): StoreDatabase {
  const prepared = new Map<string, Database.Statement>();
  const prepare = (source: string): Database.Statement => {
    let statement = prepared.get(source);
    if (statement === undefined) {
      statement = file.prepare(source);
      if (prepared.size < STATEMENT_CACHE_LIMIT) prepared.set(source, statement);
    }
    return statement;
  };
  return new Proxy(file, {
    get(target, property) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const transactionsInFlight = new Map<string, Promise<unknown>>();

/**
 * Transactions on one store file run one at a time within a process. SQLite waits for another connection's lock by
 * sleeping inside the call (busy_timeout), which in one process would stop the very event loop that must finish the
 * holder's transaction; other processes are waited for as before.
 */
function oneAtATime<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = transactionsInFlight.get(path) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  transactionsInFlight.set(path, settled);
  void settled.then(() => {
    if (transactionsInFlight.get(path) === settled) transactionsInFlight.delete(path);
  });
  return run;
}

/**
 * The snapshot of an SQLite store: `PRAGMA data_version` (asked at every lookup, but for those that accept a snapshot
 * checked a moment ago) tells whether another connection committed; only then is the change counter read, and only
 * when it moved is everything re-read. The service's own audit batches commit on the writer connection without moving
 * the counter, so they cost no re-read.
 */
class SqliteSnapshots implements SnapshotSource {
  readonly #reader: StoreDatabase;
  readonly #dataVersion;
  readonly #version;
  #snapshot: StoreSnapshot | undefined;
  #seenDataVersion = -1;
  /** When data_version was last asked (performance.now()); -Infinity: ask at the next lookup, whatever its age limit. */
  #checkedAt = Number.NEGATIVE_INFINITY;

  constructor(reader: StoreDatabase) {
    this.#reader = reader;
    this.#dataVersion = reader.prepare('PRAGMA data_version').pluck();
    this.#version = reader.prepare(SNAPSHOT_QUERIES.version).pluck();
  }

  /** A store that cannot be read (corrupt page, lock held in exclusive mode) is a 503 for callers, never a 500. */
  current(maxAgeMs = 0): StoreSnapshot {
    // Asking data_version takes and drops a read lock on the WAL index: ~7 µs, 9% of a GET (issue 19).
    if (this.#snapshot !== undefined && maxAgeMs > 0 && performance.now() - this.#checkedAt <= maxAgeMs) return this.#snapshot;
    const asked = performance.now();
    try {
      const dataVersion = this.#dataVersion.get() as number;
      if (this.#snapshot === undefined || dataVersion !== this.#seenDataVersion) {
        if (this.#snapshot === undefined || Number(this.#version.get()) !== this.#snapshot.version) this.#snapshot = this.#read();
        this.#seenDataVersion = dataVersion;
      }
      this.#checkedAt = asked;
      return this.#snapshot;
    } catch (error) {
      throw new StoreUnavailable(`the key-state store cannot be read: ${describeSqliteError(error)}`);
    }
  }

  /** The reader sees the writer's commits through data_version, asked at the next lookup whatever its age limit. */
  async refresh(): Promise<void> {
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  async close(): Promise<void> {
    this.#reader.close();
  }

  #read(): StoreSnapshot {
    const reader = this.#reader;
    return reader.transaction(() => snapshotFrom(Object.fromEntries(Object.entries(SNAPSHOT_QUERIES).map(([key, query]) => [key, reader.prepare(query).all()])) as never))();
  }
}
