import { Command } from 'commander';
import { serve } from '../main/run-service.js';

export function serveCommand(): Command {
  return new Command('serve').description('run the DKE service (what npm start runs)').action(serve);
}
