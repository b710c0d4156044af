import { Command } from 'commander';

export function serveCommand(): Command {
  return new Command('serve').description('run the DKE service (what npm start runs)').action(async () => {
    // Loaded when used: the admin verbs start without the service's HTTP stack, metrics and token verification.
    const { serve } = await import('../main/run-service.js');
    await serve();
  });
}
