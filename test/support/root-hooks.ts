/**
 * Mocha root hooks: one NSS iteration for PBKDF2 (see src/hsm/open-hsm.ts) so the test tokens are fast, and no
 * network beyond loopback: every URL a test configures points at 127.0.0.1. The throwaway PostgreSQL of a process
 * (started by the first test of that process that asks for a database) stops after its last test, whether the tests
 * passed or not: in a serial run after the run's last test; in a parallel run (scripts/test.sh), where every file gets
 * these hooks again in a worker process that runs file after file, when that worker exits (see ./postgres.ts).
 */
import { basename } from 'node:path';
import { stopPostgres } from './postgres.js';

process.env.NSS_MAX_MP_PBE_ITERATION_COUNT = '1';

/** Mocha's parallel mode runs each file in a worker process started from mocha/lib/nodejs/worker.cjs. */
const inParallelWorker = basename(process.argv[1] ?? '') === 'worker.cjs';

export const mochaHooks = inParallelWorker ? {} : { afterAll: stopPostgres };
