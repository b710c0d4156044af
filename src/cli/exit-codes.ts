import { DkeError } from '../app/admin-vocabulary.js';

/**
 * Exit statuses of `dke` (contract §3), the one table from an outcome to a status:
 * 0 done; 1 an unexpected failure; 2 refused by the rules or the configuration (a sentence says why);
 * 3 a permanent step asked for without --yes (nothing changed, the preview was printed); 4 the audit chain is broken;
 * 5 `dke doctor` or `dke hsm probe` ran and at least one check failed.
 */
export const EXIT_FAILED = 1;
export const EXIT_REFUSED = 2;
export const EXIT_NEEDS_CONFIRMATION = 3;
export const EXIT_AUDIT_BROKEN = 4;
export const EXIT_CHECKS_FAILED = 5;

/** Every named failure of the service (a DkeError: refused, misconfigured, unavailable) is a refusal; anything else failed. */
export function exitCodeFor(error: unknown): number {
  return error instanceof DkeError ? EXIT_REFUSED : EXIT_FAILED;
}
