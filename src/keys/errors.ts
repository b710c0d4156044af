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
 * A failure whose sentence never varies with its cause (a caller learns nothing from it): each subclass states its
 * sentence once, as `sentence`; the cause goes in `detail`, for the log only.
 */
abstract class FixedSentenceError extends DkeError {
  static readonly sentence: string;
  constructor(detail?: string) {
    super((new.target as unknown as typeof FixedSentenceError).sentence, detail);
  }
}

/**
 * 503 with Retry-After: something the service needs is away for now; a retry may succeed. Each subclass states its
 * fixed sentence and its usual wait once; a caller may name a wait of its own.
 */
export abstract class RetryLater extends DkeError {
  static readonly sentence: string;
  static readonly usualRetryAfterSeconds: number;
  readonly retryAfterSeconds: number;
  constructor(detail?: string, retryAfterSeconds?: number) {
    const kind = new.target as unknown as typeof RetryLater;
    super(kind.sentence, detail);
    this.retryAfterSeconds = retryAfterSeconds ?? kind.usualRetryAfterSeconds;
  }
}

/** 401: no bearer token, or one that does not verify (signature, issuer, audience, time, scope, user). */
export class TokenInvalid extends DkeError {
  readonly code = 'invalid_token';
}

/**
 * 404: no such key name, no such version of it, or a Destroyed one. A malformed name or id answers the same, so the
 * answer tells a caller nothing about which names exist.
 */
export class KeyNotFound extends FixedSentenceError {
  static override readonly sentence = 'No such key.';
  readonly code = 'key_not_found';
}

/** 403: the caller is not on the key name's allow list (by oid, member UPN, group or app role). */
export class AccessDenied extends FixedSentenceError {
  static override readonly sentence = 'You are not allowed to use this key.';
  readonly code = 'access_denied';
}

/**
 * 403: the version exists and the caller may use the key name, but the version does not decrypt: not Active, not
 * Enabled, or (beyond the contract) its token evidence says it could have left the HSM.
 */
export class KeyNotUsable extends FixedSentenceError {
  static override readonly sentence = 'This key cannot be used to decrypt.';
  readonly code = 'key_not_usable';
}

/** 400: the body is not the contract's `{"alg":"RSA-OAEP-256","value":"<base64>"}`. */
export class RequestInvalid extends DkeError {
  readonly code = 'invalid_request';
}

/**
 * Every reason a ciphertext does not decrypt (length, value not below the modulus, padding) collapses into this
 * one error with one sentence, so that responses never become a padding oracle (contract §1).
 */
export class CiphertextRejected extends FixedSentenceError {
  static override readonly sentence = 'The value could not be decrypted with this key.';
  readonly code = 'decrypt_failed';
}

/** 503 with Retry-After: the token is away, recovering or refusing the configuration; a retry may succeed. */
export class HsmUnavailable extends RetryLater {
  static override readonly sentence = 'The key store is temporarily unavailable; try again shortly.';
  static override readonly usualRetryAfterSeconds = 1;
  readonly code = 'hsm_unavailable';
}

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
export class StoreUnavailable extends RetryLater {
  static override readonly sentence = 'The key service cannot record this request right now; try again shortly.';
  static override readonly usualRetryAfterSeconds = 5;
  readonly code = 'store_unavailable';
}

/** The store cannot be opened as it is (missing, empty, replaced, unreadable): the message tells the operator why. */
export class StoreRefused extends DkeError {
  readonly code = 'store_refused';
}
