import { storeId, type StoreDatabase } from './database.js';
import { StoreFileWatch } from './store-file-watch.js';

/** The store file a service opened: its file identity (device and inode) and the store id written at its creation. */
export interface OpenedStore {
  readonly fileIdentity: string;
  readonly storeId: string;
}

/** What the service opened at `path` through `file`, taken right after opening. */
export function openedStore(path: string, file: StoreDatabase): OpenedStore {
  return { fileIdentity: new StoreFileWatch(path).identity, storeId: storeId(file) };
}

/**
 * Asked before every audit write and at every readiness check: a sentence when the store file at `path` is no
 * longer the one the service opened (removed, replaced, emptied, or another store copied over it). `file` is the
 * asking connection's own.
 */
export function storeFileCheck(path: string, opened: OpenedStore, file: StoreDatabase): () => string | undefined {
  const storeWatch = new StoreFileWatch(path, opened.fileIdentity);
  return () => storeWatch.problem() ?? otherStore(path, opened, file);
}

/**
 * A sentence when the file `file` reads is another store than the one the service opened. `cp other.sqlite dke.sqlite`
 * keeps the inode, which the file watch compares: the identity written at creation tells the stores apart. The audit
 * writer thread asks it after its own file watch, once it has a connection.
 */
export function otherStore(path: string, opened: OpenedStore, file: StoreDatabase): string | undefined {
  let current: string;
  try {
    current = storeId(file);
  } catch {
    return undefined; // unreadable: the audit rehearsal reports it with SQLite's words
  }
  return current === opened.storeId ? undefined : `the store file ${path} was replaced by another store while the service runs`;
}
