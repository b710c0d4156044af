import type { ArchiveCheck, ArchiveResult, AuditEntry, AuditFilter, AuditVerification } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';
import { checkAnchoredHead } from './anchored-audit-head.js';

/** Entries per read of an export. */
const EXPORT_BATCH = 500;

/** A page of entries, newest first, and where the next (older) page starts. */
export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly next?: number;
}

/**
 * The audit trail as an admin reads, verifies and archives it (contract §3 `dke audit`, §6 `/admin/api/audit`).
 * Reading and verifying write no entry (issue 27): the trail holds decisions and changes, and a console that reads it
 * on every page would bury them under its own visits.
 */
export class AuditReads {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  /**
   * One page of the entries a filter selects, newest first: at most `limit` (all when absent), older than `beforeSeq`
   * when given; `next` is the `beforeSeq` of the following page while there is one. A read: it writes nothing.
   */
  async page(filter: AuditFilter, paging: { readonly beforeSeq?: number; readonly limit?: number } = {}): Promise<AuditPage> {
    const { beforeSeq, limit } = paging;
    const found = await this.#ctx.deps.audit.find({ ...filter, order: 'newest-first', ...(beforeSeq !== undefined ? { beforeSeq } : {}), ...(limit !== undefined ? { limit: limit + 1 } : {}) });
    if (limit === undefined || found.length <= limit) return { entries: found };
    const entries = found.slice(0, limit);
    return { entries, next: entries.at(-1)!.seq };
  }

  /**
   * Every entry a filter selects, oldest first, read from the store in batches (an export of any length holds one
   * batch in memory). A read: it writes nothing.
   */
  async *exported(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    let afterSeq: number | undefined;
    for (;;) {
      const batch = await this.#ctx.deps.audit.find({ ...filter, order: 'oldest-first', limit: EXPORT_BATCH, ...(afterSeq !== undefined ? { afterSeq } : {}) });
      yield* batch;
      if (batch.length < EXPORT_BATCH) return;
      afterSeq = batch.at(-1)!.seq;
    }
  }

  /**
   * `dke audit verify`: a removed, edited, reordered or truncated entry breaks the hash chain against its head, and a
   * trail behind the head the token anchored (issue 25) fails too. A read.
   */
  async verify(archives: readonly string[] = []): Promise<AuditVerification & { readonly archives?: readonly ArchiveCheck[] }> {
    const { audit, vault } = this.#ctx.deps;
    const verified = await audit.verify();
    const behind = verified.ok ? await checkAnchoredHead(audit, vault) : undefined;
    const chain = behind === undefined ? verified : { ...verified, ok: false, ...behind };
    const checks = archives.length === 0 ? undefined : await audit.checkArchives(archives);
    const failed = checks?.find((c) => !c.ok);
    const result =
      failed === undefined || !chain.ok ? { ...chain, ...(checks ? { archives: checks } : {}) } : { ...chain, ok: false, problem: `the archive ${failed.file} ${failed.problem}`, archives: checks };
    return result;
  }

  /** `dke audit archive --before TIME --to FILE` (issue 17): the store's archiver, src/store/audit-archive.ts, writes the file. */
  archive(before: Date, file: string): Promise<ArchiveResult | undefined> {
    return this.#ctx.deps.audit.archiveBefore(before, file, this.#ctx.deps.actor);
  }
}
