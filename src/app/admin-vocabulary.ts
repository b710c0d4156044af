/**
 * The domain words the admin front ends speak (the CLI today, the admin API next): they reach `keys/` only through
 * `app/`, so the domain can change its files without touching them.
 */
export { AdminRefused, DkeError, RequestInvalid, StoreUnavailable } from '../keys/errors.js';
export { parseKeyState, type AllowList, type KeyState } from '../keys/key-version.js';
export { DEFAULT_INITIAL_STATE, INITIAL_STATES, PERMANENT_STATES, SETTABLE_STATES, stateLabel, stateList } from '../keys/lifecycle.js';
export type { NextStep } from '../keys/errors.js';
export { AUDIT_EXPORT_FORMATS, AUDIT_FILTERS, type AuditExportFormat } from '../keys/vocabulary.js';
export { statusLabel, type StatusOf } from '../keys/effective-status.js';
