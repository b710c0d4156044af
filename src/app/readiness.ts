import { CiphertextRejected, HsmBusy, KeyNotFound, KeyNotUsable } from '../keys/errors.js';
import { servedVersion } from '../keys/lifecycle.js';
import { outageJournalWarning, type OutageJournalReading } from './outage-journal-readiness.js';
import type { KeyStateStore, KeyVault, KeyVersionRef } from '../keys/ports.js';
import type { ClockProblem } from './clock-skew-check.js';
import { decryptsRoundTrip } from './software-rsa.js';
import { compareStoreWithToken, refList } from './store-token-consistency.js';
import { inUnreachableVault, reachableTokenView } from './vault-readiness.js';

export interface CheckResult {
  /** warn: working, but an operator should look (it does not take the instance out of the load balancer). */
  readonly status: 'pass' | 'warn' | 'fail';
  readonly checkedAt: string;
  readonly detail?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

export interface ReadinessProbes {
  /** Is the token open and logged in? A sentence when not (a throw counts as not); a warning while some vaults answer and others not. */
  readonly hsm: () => Promise<string | { readonly warning: string } | undefined>;
  /**
   * Can the store be written? A sentence when not (a throw counts as not); a warning while the service answers from
   * its last snapshot of an unreachable database, within DKE_STATE_STALENESS_SECONDS (contract §5).
   */
  readonly store: () => Promise<string | { readonly warning: string } | undefined>;
  /**
   * Are the token issuer's keys loaded? A sentence when not; a warning when only their refresh failed: cached keys
   * keep verifying, so an Entra metadata outage must not take every instance out of the load balancer.
   */
  readonly issuerKeys: () => string | { readonly warning: string } | undefined;
  /** Issue 25: what is not anchored on the token, or disagrees with it (token-anchor.ts); a warning at most. */
  readonly tokenRecords?: () => { readonly warning: string } | undefined;
  /** Versions the token records as permanently out of use: refused whatever the store says, so never self-tested. */
  readonly refusedByToken?: (ref: { name: string; keyId: string }) => boolean;
  /** Versions an unfinished admin step is creating or destroying (not a disagreement between store and token). */
  readonly pendingVersions?: () => Promise<readonly { name: string; keyId: string }[]>;
  /** The local outage journal of a database store (none for the embedded store). */
  readonly outageJournal?: () => OutageJournalReading;
  /** This instance's clock against the database's (clock-skew-check.ts); absent: not compared. */
  readonly clock?: () => Promise<ClockProblem>;
  /**
   * Told of a published version the self-test found the token refusing (`missing`: its key is gone), so GET stops
   * publishing it at once (issue 25).
   */
  readonly versionRefused?: (version: KeyVersionRef, missing: boolean) => void;
}

/**
 * Readiness (contract §1, /health/ready): the HSM is logged in, every published version passes an RSA-OAEP-256
 * self-test (encrypt in software with the served public key, decrypt in the token, compare), the store is writable
 * and the issuer's keys are loaded. Checked in the background; probes read the last report. A fault of one version
 * (the token refuses or lacks its key: an unfinished step, a key removed behind the service) is a warning naming
 * it (contract §5, issue 25): only what stops the whole instance fails it.
 */
export class Readiness {
  readonly #store: KeyStateStore;
  readonly #vault: KeyVault;
  readonly #probes: ReadinessProbes;
  #report: ReadinessReport = { ready: false, checks: {} };

  constructor(store: KeyStateStore, vault: KeyVault, probes: ReadinessProbes) {
    this.#store = store;
    this.#vault = vault;
    this.#probes = probes;
  }

  get report(): ReadinessReport {
    return this.#report;
  }

  async check(): Promise<ReadinessReport> {
    const at = new Date().toISOString();
    const result = (detail: Problem): CheckResult =>
      detail === undefined
        ? { status: 'pass', checkedAt: at }
        : typeof detail === 'string'
          ? { status: 'fail', checkedAt: at, detail }
          : { status: 'warn', checkedAt: at, detail: detail.warning };
    const checks: Record<string, CheckResult> = {};
    const hsmProblem = await attemptAsync(this.#probes.hsm);
    checks.hsm = result(hsmProblem);
    checks.selfTest = result(typeof hsmProblem === 'string' ? 'skipped: the HSM is not ready' : await attemptAsync(() => this.#selfTest()));
    checks.store = result(await attemptAsync(this.#probes.store));
    checks.keyRecords = result(typeof hsmProblem === 'string' ? 'skipped: the HSM is not ready' : await this.#storeMatchesToken());
    checks.issuerKeys = result(this.#probes.issuerKeys());
    if (this.#probes.outageJournal !== undefined) checks.auditJournal = result(outageJournalWarning(this.#probes.outageJournal()));
    if (this.#probes.clock !== undefined) checks.clock = result(await this.#probes.clock());
    if (this.#probes.tokenRecords !== undefined) checks.tokenRecords = result(this.#probes.tokenRecords());
    this.#report = { ready: Object.values(checks).every((c) => c.status !== 'fail'), checks };
    return this.#report;
  }

  /**
   * A version whose private key left the token can never decrypt: a warning naming it (issue 25: that version only;
   * GET stops publishing it). Token objects no record knows are a warning (an interrupted create: `dke keys
   * reconcile`), and a failure when the store knows no key at all, since that is what a replaced or emptied store
   * looks like.
   */
  async #storeMatchesToken(): Promise<Problem> {
    try {
      const { records, objects } = await reachableTokenView(this.#vault, this.#store.listKeys());
      const { missingPrivateKeys, missingServable, unknownObjects } = compareStoreWithToken(records, objects, (await this.#probes.pendingVersions?.()) ?? []);
      const missing = `the private key of ${refList(missingPrivateKeys)} is missing from the token; run "dke keys reconcile"`;
      for (const ref of missingServable) this.#probes.versionRefused?.(ref, true);
      const unknown = `the token holds key objects that no record knows (${refList(unknownObjects)}); run "dke keys reconcile --dry-run"`;
      if (unknownObjects.length > 0 && records.length === 0) return `${unknown}; the store knows no key at all: it may have been replaced`;
      const warnings = [...(missingPrivateKeys.length > 0 ? [missing] : []), ...(unknownObjects.length > 0 ? [unknown] : [])];
      return warnings.length === 0 ? undefined : { warning: warnings.join('; ') };
    } catch (error) {
      // A busy pool is the HSM check's business; this comparison is simply not made this time.
      return error instanceof HsmBusy ? { warning: `not compared for lack of a free session` } : describe(error);
    }
  }

  async #selfTest(): Promise<Problem> {
    const failures: string[] = [];
    const busy: string[] = [];
    const refused: string[] = [];
    const unreachable = inUnreachableVault(this.#vault);
    for (const record of this.#store.listKeys()) {
      const version = servedVersion(record);
      if (version === undefined || unreachable(version) || this.#probes.refusedByToken?.(version) === true) continue;
      try {
        const ok = await decryptsRoundTrip(this.#vault, version, await this.#vault.publicKey(version));
        if (!ok) failures.push(`${version.name}/${version.keyId}: decrypted value differs`);
      } catch (error) {
        const refusedHere = error instanceof KeyNotUsable || error instanceof KeyNotFound;
        if (refusedHere) this.#probes.versionRefused?.(version, error instanceof KeyNotFound);
        (refusedHere ? refused : isSaturation(error) ? busy : failures).push(`${version.name}/${version.keyId}: ${describe(error)}`);
      }
    }
    if (failures.length > 0) return failures.join('; ');
    const warnings = [
      ...(refused.length > 0 ? [`the token refuses these versions, which are not published meanwhile: ${refused.join('; ')}`] : []),
      ...(busy.length > 0 ? [`not run for lack of a free session: ${busy.join('; ')}`] : []),
    ];
    return warnings.length === 0 ? undefined : { warning: warnings.join('; ') };
  }
}

/** undefined: pass; a sentence: fail; a warning: working, an operator should look. */
type Problem = string | { readonly warning: string } | undefined;

async function attemptAsync(work: () => Promise<Problem>): Promise<Problem> {
  try {
    return await work();
  } catch (error) {
    return isSaturation(error) ? { warning: describe(error) } : describe(error);
  }
}

/**
 * Every session busy while the token kept completing operations: a peak, not a fault. The instance stays in the
 * load balancer (a warning), since taking every replica out at once would turn a peak into an outage; a token that
 * completed nothing during the wait has stalled, and that fails the check.
 */
function isSaturation(error: unknown): boolean {
  return error instanceof HsmBusy && error.tokenProgressing;
}

function describe(error: unknown): string {
  if (error instanceof CiphertextRejected) {
    // A ciphertext made correctly was refused: the token lacks RSA-OAEP with SHA-256 (SoftHSM2 2.6 allows SHA-1 only).
    return 'the token refused RSA-OAEP with SHA-256 and MGF1-SHA-256 on a correct ciphertext; this token does not support the DKE mechanism (SoftHSM2 2.6 is one such token)';
  }
  if (error instanceof Error && 'detail' in error && typeof error.detail === 'string') return `${error.message} (${error.detail})`;
  return error instanceof Error ? error.message : 'unknown error';
}
