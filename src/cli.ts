#!/usr/bin/env node
import { buildProgram } from './cli/program.js';
import { DkeError } from './keys/errors.js';
import { ConfigError } from './config/config.js';
import { HsmConfigurationError } from './hsm/hsm-errors.js';

/** A refused or failed command exits non-zero with one sentence on stderr (contract §3); no stack for known cases. */
buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const known = error instanceof DkeError || error instanceof ConfigError || error instanceof HsmConfigurationError;
    process.stderr.write(`dke: ${error instanceof Error ? error.message : String(error)}\n`);
    if (!known && error instanceof Error && process.env.DKE_DEBUG) process.stderr.write(`${error.stack ?? ''}\n`);
    process.exitCode = known ? 2 : 1;
  });
