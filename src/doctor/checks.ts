/** One line of `dke doctor` (contract §8): what was checked, how it went, and the fix in one sentence when it failed. */
export interface DoctorCheck {
  readonly name: string;
  readonly status: 'pass' | 'warn' | 'fail';
  readonly detail: string;
  /** One sentence saying what to change; null when the check passed. */
  readonly fix: string | null;
}

export const pass = (name: string, detail: string): DoctorCheck => ({ name, status: 'pass', detail, fix: null });
export const warn = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'fail', detail, fix });

/** Warnings do not fail a run; one failed check does. */
export function anyFailed(checks: readonly DoctorCheck[]): boolean {
  return checks.some((c) => c.status === 'fail');
}
