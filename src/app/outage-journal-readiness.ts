/** The local outage journal as readiness reads it: its folder and the entries in it not yet in the trail. */
export interface OutageJournalReading {
  readonly directory: string;
  readonly undrained: number;
}

/**
 * The auditJournal readiness check (contract §5): decrypt entries waiting in the local journal for the database are a
 * warning, never a failure. The instance still answers, and taking it out of the load balancer would not bring the
 * database back; but until they are drained, this instance's folder holds the only copy of those entries.
 */
export function outageJournalWarning(journal: OutageJournalReading): { readonly warning: string } | undefined {
  if (journal.undrained === 0) return undefined;
  const entries = journal.undrained === 1 ? '1 decrypt audit entry waits' : `${journal.undrained} decrypt audit entries wait`;
  return { warning: `${entries} in the local journal in ${journal.directory} for the database: they reach the trail once it answers; until then that folder holds their only copy` };
}
