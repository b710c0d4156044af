import { statSync } from 'node:fs';

/**
 * Notices when the store file this process opened is no longer the one at its path: deleted, replaced by another
 * file, or emptied. SQLite keeps writing to an open, deleted file without complaint, so evidence would go nowhere;
 * the audit writer asks before every batch and readiness asks on every check.
 */
export class StoreFileWatch {
  readonly #path: string;
  readonly #identity: string;

  /**
   * `identity`: the file as another thread of this process found it when it opened the store (default: as it is
   * now).
   */
  constructor(path: string, identity?: string) {
    this.#path = path;
    this.#identity = identity ?? identityOf(path) ?? '';
  }

  /** The device and inode this watch holds the file to. */
  get identity(): string {
    return this.#identity;
  }

  /** A sentence when the file at the path is not the store this process opened. */
  problem(): string | undefined {
    let stats;
    try {
      stats = statSync(this.#path, { bigint: true });
    } catch {
      return `the store file ${this.#path} was removed while the service runs`;
    }
    if (`${stats.dev}:${stats.ino}` !== this.#identity) return `the store file ${this.#path} was replaced while the service runs`;
    if (stats.size === 0n) return `the store file ${this.#path} was emptied while the service runs`;
    return undefined;
  }
}

function identityOf(path: string): string | undefined {
  try {
    const stats = statSync(path, { bigint: true });
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}
