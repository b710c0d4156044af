/**
 * Start-up failures of the HSM that an operator must fix (wrong PIN, no such token, missing mechanism).
 * They are never retried automatically: a token locks after a few wrong PINs.
 */
export class HsmConfigurationError extends Error {
  override readonly name = 'HsmConfigurationError';
}
