/** undefined: the clocks agree (or there is no second clock); a warning: they differ by more than tokens allow. */
export type ClockProblem = { readonly warning: string } | undefined;

/**
 * Issue 25: this instance's clock against the database server's (PostgreSQL's now(); a file store has no clock of
 * its own and is skipped). Token times (`nbf`, `exp`) are judged by this instance's clock within
 * DKE_AUTH_CLOCK_SKEW_SECONDS; an instance whose clock is further off than that refuses valid users (or accepts
 * expired tokens) while everything else looks fine, so readiness names it as a warning (the instance still serves).
 * The local time is taken half-way through the query, so the round trip does not count as skew. A database that
 * does not answer is the store check's business: no verdict here then.
 */
export async function clockSkewProblem(databaseTime: () => Promise<Date | undefined>, allowedSkewSeconds: number, now: () => Date = () => new Date()): Promise<ClockProblem> {
  const before = now().getTime();
  let database: Date | undefined;
  try {
    database = await databaseTime();
  } catch {
    return undefined;
  }
  if (database === undefined) return undefined;
  const local = (before + now().getTime()) / 2;
  const skewSeconds = Math.round((local - database.getTime()) / 1000);
  if (Math.abs(skewSeconds) <= allowedSkewSeconds) return undefined;
  const direction = skewSeconds > 0 ? 'ahead of' : 'behind';
  return {
    warning: `this instance's clock is ${Math.abs(skewSeconds)} s ${direction} the database's, more than the ${allowedSkewSeconds} s tokens are allowed (DKE_AUTH_CLOCK_SKEW_SECONDS): valid users may be refused; set the clock right (NTP)`,
  };
}
