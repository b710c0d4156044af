/**
 * Mocha root hooks: one NSS iteration for PBKDF2 (see src/hsm/open-hsm.ts) so the test tokens are fast, and no
 * network beyond loopback: every URL a test configures points at 127.0.0.1.
 */
process.env.NSS_MAX_MP_PBE_ITERATION_COUNT = '1';

export const mochaHooks = {};
