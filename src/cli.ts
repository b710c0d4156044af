#!/usr/bin/env node
import { runProgram } from './cli/program.js';
import { devCommand, devTokenCommand } from './dev/dev-command.js';

/** The `dke` entry point: the CLI's commands and the development ones (they live apart, see docs/architecture.md "Layout"). */
void runProgram(process.argv, [devCommand(), devTokenCommand()]);
