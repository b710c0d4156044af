/**
 * Mocha root hooks: one NSS iteration for PBKDF2 (see src/hsm/open-hsm.ts) so the test tokens are fast, and no
 * network beyond loopback: every URL a test configures points at 127.0.0.1. The run's throwaway PostgreSQL (started by
 * the first test that asks for a database) stops after the last test, whether the tests passed or not.
 */
import { stopPostgres } from './postgres.js';

process.env.NSS_MAX_MP_PBE_ITERATION_COUNT = '1';

export const mochaHooks = {
  afterAll: stopPostgres,
};
