/**
 * The domain words the admin front ends speak (the CLI today, the admin API next): they reach `keys/` only through
 * `app/`, so the domain can change its files without touching them.
 */
export { AdminRefused, DkeError, StoreUnavailable } from '../keys/errors.js';
export { parseKeyState, type AllowList, type KeyState } from '../keys/key-version.js';
export { DEFAULT_INITIAL_STATE, INITIAL_STATES, SETTABLE_STATES, stateLabel, stateList } from '../keys/lifecycle.js';
export type { NextStep } from '../keys/errors.js';
export { statusLabel, type StatusOf } from '../keys/effective-status.js';
