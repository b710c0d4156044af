/**
 * Failures of the key service, each with a stable `code` and a sentence that is safe to show a caller.
 * They carry no HTTP status: `http/error-responses.ts` is the one table from code to response.
 * `detail` is for the log only (never a secret either) and never leaves the process.
 */
export abstract class DkeError extends Error {
  abstract readonly code: string;
  readonly detail: string | undefined;

  constructor(message: string, detail?: string) {
    super(message);
    // The class name (KeyNotFound, AdminRefused…) is the error's name in logs and stack traces.
    this.name = new.target.name;
    this.detail = detail;
  }
}

/**
 * The base of a failure whose sentence never varies with its cause (a caller learns nothing from it): the sentence is
 * stated once, here; the cause goes in `detail`, for the log only.
 */
function fixedSentence<const Code extends string>(code: Code, sentence: string) {
  return class extends DkeError {
    readonly code = code;
    constructor(detail?: string) {
      super(sentence, detail);
    }
  };
}

/**
 * 503 with Retry-After: something the service needs is away for now; a retry may succeed. `retryLater` states a
 * subclass's fixed sentence and its usual wait once; a caller may name a wait of its own.
 */
export abstract class RetryLater extends DkeError {
  readonly retryAfterSeconds: number;
  constructor(sentence: string, detail: string | undefined, retryAfterSeconds: number) {
    super(sentence, detail);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function retryLater<const Code extends string>(code: Code, sentence: string, usualRetryAfterSeconds: number) {
  return class extends RetryLater {
    readonly code = code;
    constructor(detail?: string, retryAfterSeconds = usualRetryAfterSeconds) {
      super(sentence, detail, retryAfterSeconds);
    }
  };
}

/** 401: no bearer token, or one that does not verify (signature, issuer, audience, time, scope, user). */
export class TokenInvalid extends DkeError {
  readonly code = 'invalid_token';
}

/**
 * 404: no such key name, no such version of it, or a Destroyed one. A malformed name or id answers the same, so the
 * answer tells a caller nothing about which names exist.
 */
export class KeyNotFound extends fixedSentence('key_not_found', 'No such key.') {}

/** 403: the caller is not on the key name's allow list (by oid, member UPN, group or app role). */
export class AccessDenied extends fixedSentence('access_denied', 'You are not allowed to use this key.') {}

/**
 * 403: the version exists and the caller may use the key name, but the version does not decrypt: not Active, not
 * Enabled, or (beyond the contract) its token evidence says it could have left the HSM.
 */
export class KeyNotUsable extends fixedSentence('key_not_usable', 'This key cannot be used to decrypt.') {}

/** 400: the body is not the contract's `{"alg":"RSA-OAEP-256","value":"<base64>"}`. */
export class RequestInvalid extends DkeError {
  readonly code = 'invalid_request';
}

/**
 * Every reason a ciphertext does not decrypt (length, value not below the modulus, padding) collapses into this
 * one error with one sentence, so that responses never become a padding oracle (contract §1).
 */
export class CiphertextRejected extends fixedSentence('decrypt_failed', 'The value could not be decrypted with this key.') {}

/** 503 with Retry-After: the token is away, recovering or refusing the configuration; a retry may succeed. */
export class HsmUnavailable extends retryLater('hsm_unavailable', 'The key store is temporarily unavailable; try again shortly.', 1) {}

/**
 * Every session stayed busy for the whole bounded wait. `tokenProgressing` says whether the token finished other
 * operations meanwhile: true is saturation (more demand than sessions), false is a token that stopped answering.
 * Readiness needs the difference: taking every instance out of the load balancer at a peak would turn a slowdown into
 * an outage, while a stalled token must take its instance out.
 */
export class HsmBusy extends HsmUnavailable {
  readonly tokenProgressing: boolean;
  constructor(tokenProgressing: boolean) {
    super(
      tokenProgressing
        ? 'no HSM session became free in time (every session busy; the token is completing operations)'
        : 'no HSM session became free in time (no operation completed during the wait: the token may have stalled)',
    );
    this.tokenProgressing = tokenProgressing;
  }
}

/**
 * What an admin can do about a refusal, as data: each front end names the step in its own words (the CLI its verb,
 * src/cli/next-steps.ts; the admin API its route, src/http/admin-routes.ts), so an API caller is never told to run a
 * command and an operator at the CLI never to call a route.
 */
export type NextStep =
  /** The key name exists: a new version comes from a rotation. */
  | { readonly kind: 'rotate-instead'; readonly name: string }
  /** A state change does not destroy a version: a delete does. */
  | { readonly kind: 'delete-instead'; readonly name: string; readonly keyId: string }
  /** The version waits for its destruction: the deletion must be cancelled before anything else happens to it. */
  | { readonly kind: 'cancel-deletion-first'; readonly name: string; readonly keyId: string }
  /** The version waits for its destruction already: cancelling the deletion brings it back. */
  | { readonly kind: 'cancel-deletion-restores'; readonly name: string; readonly keyId: string }
  /** Another command's token step on the key name is unfinished; a dead one is finished or rolled back by a reconcile. */
  | { readonly kind: 'reconcile-if-died' };

/** A refusal that names a next step: why (one clause, no final period) and the step, for a front end to word. */
export interface StepRefusal {
  readonly reason: string;
  readonly nextStep: NextStep;
}

/** The next step in words that name no front end: the refusal's own message, for the audit trail and the log. */
function plainStep(step: NextStep): string {
  switch (step.kind) {
    case 'rotate-instead':
      return 'rotate it for a new version';
    case 'delete-instead':
      return 'delete the version to destroy it';
    case 'cancel-deletion-first':
      return 'cancel the deletion first';
    case 'cancel-deletion-restores':
      return 'cancelling the deletion brings it back';
    case 'reconcile-if-died':
      return 'if that command died, a reconcile finishes or rolls it back';
  }
}

/** The whole sentence of a refusal with its next step said by `say` (a front end's words; plain words by default). */
export function stepRefusalSentence(refusal: StepRefusal, say: (step: NextStep) => string = plainStep): string {
  return `${refusal.reason}; ${say(refusal.nextStep)}.`;
}

/**
 * An administrative request that the rules refuse: the message says why and what is allowed. When the refusal names
 * a next step, `stepRefusal` holds it as data and `inWords` gives the sentence a front end shows.
 */
export class AdminRefused extends DkeError {
  readonly code: string = 'refused';
  readonly stepRefusal: StepRefusal | undefined;

  constructor(why: string | StepRefusal) {
    super(typeof why === 'string' ? why : stepRefusalSentence(why));
    this.stepRefusal = typeof why === 'string' ? undefined : why;
  }

  /** The same refusal (class and code) with its next step in a front end's own words; itself when it names none. */
  inWords(say: (step: NextStep) => string): AdminRefused {
    if (this.stepRefusal === undefined) return this;
    const Same = this.constructor as new (why: string) => AdminRefused;
    return new Same(stepRefusalSentence(this.stepRefusal, say));
  }
}

/** The state table (keys/lifecycle.ts) or a concurrent change refuses the step; the admin API answers 409. */
export class AdminConflict extends AdminRefused {
  override readonly code: string = 'conflict';
}

/**
 * A second proposal for a step that already waits for approval (issue 26); the admin API answers 409 `conflict` with
 * the pending proposal's id in `existing`.
 */
export class DuplicateProposal extends AdminConflict {
  readonly existing: string;

  constructor(why: string, existing = '') {
    super(why);
    this.existing = existing;
  }
}

/**
 * An app-only token (a service principal, no person) approving while the policy does not let applications approve
 * (contract §10); the admin API answers 403 `app_only_approver`.
 */
export class AppOnlyApprover extends AdminRefused {
  override readonly code: string = 'app_only_approver';
}

/** A proposal approved by the admin who made it (two-person rule); the admin API answers 403 `same_principal`. */
export class SamePrincipal extends AdminRefused {
  override readonly code: string = 'same_principal';
}

/** The key name or version an admin step names does not exist; the admin API answers 404. */
export class AdminNotFound extends AdminRefused {
  override readonly code: string = 'not_found';
}

/**
 * The HSM refused the service's configuration (wrong PIN, no such token, module missing, mechanism missing): an
 * operator must act. Never retried automatically: a token locks after a few wrong PINs.
 */
export class HsmConfigurationError extends DkeError {
  readonly code = 'hsm_misconfigured';
}

/** The token already holds objects under this key name and id (a leftover or another key): nothing was changed. */
export class KeyAlreadyInToken extends DkeError {
  readonly code = 'key_already_in_token';
}

/** The token would not limit an imported key to decrypt (it kept sign, unwrap or derive): the import was undone. */
export class KeyUsageNotRestricted extends DkeError {
  readonly code = 'key_usage_not_restricted';
}

/**
 * The audit trail or the key-state store cannot be written or read right now (disk full, a lock held elsewhere, a
 * corrupt page, the store file gone). A decrypt is never answered without its audit entry, so it is refused with
 * 503 and Retry-After; the cause goes to the log and to readiness, never to the caller.
 */
export class StoreUnavailable extends retryLater('store_unavailable', 'The key service cannot record this request right now; try again shortly.', 5) {}

/** The store cannot be opened as it is (missing, empty, replaced, unreadable): the message tells the operator why. */
export class StoreRefused extends DkeError {
  readonly code = 'store_refused';
}

/**
 * The shared database (DKE_DATABASE_URL) does not answer: every change is refused at once with a sentence naming it
 * (contract §5), the CLI exits 2 and the admin API answers 503 with Retry-After; decrypt and GET go on from the last
 * snapshot for DKE_STATE_STALENESS_SECONDS. The sentence names host and database, never the password.
 */
export class DatabaseUnavailable extends RetryLater {
  readonly code = 'database_unavailable';
  /** `sentence` names the database (host and name, never the password). */
  constructor(sentence: string, detail?: string) {
    super(sentence, detail, 5);
  }
}
