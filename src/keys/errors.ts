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

/** An administrative request that the rules refuse (CLI): the message says why and what is allowed. */
export class AdminRefused extends DkeError {
  readonly code: string = 'refused';
}

/** The state table (keys/lifecycle.ts) or a concurrent change refuses the step; the admin API answers 409. */
export class AdminConflict extends AdminRefused {
  override readonly code: string = 'conflict';
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
