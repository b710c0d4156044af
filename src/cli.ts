#!/usr/bin/env node
import { runProgram } from './cli/program.js';
import { devCommand, devTokenCommand } from './dev/dev-command.js';

/**
 * The `dke` entry point: the CLI's commands and the development ones (they live apart, see docs/architecture.md
 * "Layout"). `npm run build` and `npm test` replace its compiled file with the program bundled
 * (scripts/bundle-libraries.mjs), which an operator's every command starts in two thirds of the time.
 */
void runProgram(process.argv, [devCommand(), devTokenCommand()]);
