import type { ArchiveCheck, ArchiveResult, AuditEntry, AuditVerification } from '../keys/ports.js';
import type { AdminContext } from './admin-context.js';

/** The audit trail as an admin reads, verifies and archives it (contract §3 `dke audit`, §6 `/admin/api/audit`). */
export class AuditReads {
  readonly #ctx: AdminContext;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
  }

  /**
   * Admin actions and decrypt decisions, oldest first; only those of one key name when `keyName` is given, and only
   * the newest `limit` when given. The reading itself is recorded after it.
   */
  async entries(since?: Date, filter: { readonly keyName?: string; readonly limit?: number } = {}): Promise<AuditEntry[]> {
    let entries = await this.#ctx.deps.audit.list(since);
    if (filter.keyName !== undefined) entries = entries.filter((e) => e.keyName === filter.keyName);
    if (filter.limit !== undefined) entries = entries.slice(Math.max(0, entries.length - filter.limit));
    await this.#ctx.audit.succeeded('audit-read', filter.keyName, undefined, { since: since?.toISOString() ?? null, entries: entries.length });
    return entries;
  }

  /** `dke audit verify`: a removed, edited, reordered or truncated entry breaks the hash chain against its head. */
  async verify(archives: readonly string[] = []): Promise<AuditVerification & { readonly archives?: readonly ArchiveCheck[] }> {
    const { audit } = this.#ctx.deps;
    const chain = await audit.verify();
    const checks = archives.length === 0 ? undefined : await audit.checkArchives(archives);
    const failed = checks?.find((c) => !c.ok);
    const result =
      failed === undefined || !chain.ok ? { ...chain, ...(checks ? { archives: checks } : {}) } : { ...chain, ok: false, problem: `the archive ${failed.file} ${failed.problem}`, archives: checks };
    await this.#ctx.audit.succeeded('audit-verify', undefined, undefined, { ok: result.ok, entries: result.entries, brokenAt: result.brokenAt ?? null, archives: archives.length });
    return result;
  }

  /** `dke audit archive --before TIME --to FILE` (issue 17): the store's archiver, src/store/audit-archive.ts, writes the file. */
  archive(before: Date, file: string): Promise<ArchiveResult | undefined> {
    return this.#ctx.deps.audit.archiveBefore(before, file, this.#ctx.deps.actor);
  }
}
