import { sql, type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool } from './kysely.js';
import type { AuditEntry, AuditQuery } from '../keys/ports.js';
import { toEntry } from './audit-entries.js';
import type { StoreTables } from './schema.js';
import type { StoreConnection } from './store-connection.js';

/** The action of a decrypt decision; every other action is an admin action or a step of the service. */
const DECRYPT_ACTION = 'decrypt';

/**
 * The entries a query selects, filtered and ordered in the database on either engine (the entry's fields through the
 * dialect's JSON access), so a flood of one kind of entry never pushes another out of a read window. Paging is a
 * cursor on `seq`, the primary key: each page is one range scan from where the last one stopped.
 */
export async function findAuditEntries(connection: StoreConnection, query: AuditQuery): Promise<AuditEntry[]> {
  const field = (key: string): RawBuilder<string> => connection.dialect.jsonField(key);
  let select = connection.db
    .selectFrom('audit')
    .selectAll()
    .where((eb) => eb.and(conditions(eb, query, field)))
    .orderBy('seq', query.order === 'newest-first' ? 'desc' : 'asc');
  if (query.limit !== undefined) select = select.limit(query.limit);
  const rows = await select.execute().catch((error: unknown) => Promise.reject(connection.translate(error)));
  return rows.map(toEntry);
}

function conditions(eb: ExpressionBuilder<StoreTables, 'audit'>, query: AuditQuery, field: (key: string) => RawBuilder<string>): Expression<SqlBool>[] {
  const all: Expression<SqlBool>[] = [];
  if (query.beforeSeq !== undefined) all.push(eb('seq', '<', query.beforeSeq));
  if (query.afterSeq !== undefined) all.push(eb('seq', '>', query.afterSeq));
  // `at` is an ISO time in UTC with milliseconds, so text order is time order.
  if (query.since !== undefined) all.push(eb('at', '>=', query.since.toISOString()));
  if (query.until !== undefined) all.push(eb('at', '<', query.until.toISOString()));
  if (query.keyNames?.length) all.push(eb(field('keyName'), 'in', [...query.keyNames]));
  if (query.actions?.length) all.push(eb(field('action'), 'in', [...query.actions]));
  if (query.outcomes?.length) all.push(eb(field('outcome'), 'in', [...query.outcomes]));
  if (query.kind !== undefined) all.push(eb(field('action'), query.kind === 'decrypt' ? '=' : '<>', DECRYPT_ACTION));
  if (query.actors?.length) {
    // Both sides lowered by the engine itself, so a name matches in any case the same way on SQLite and PostgreSQL.
    all.push(eb.or(query.actors.map((actor) => sql<SqlBool>`lower(${field('actor')}) LIKE lower(${`%${likeEscaped(actor)}%`}) ESCAPE '\\'`)));
  }
  return all;
}

/** The text with LIKE's wildcards taken literally. */
function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
