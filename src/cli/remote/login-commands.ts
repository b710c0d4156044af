import { Command } from 'commander';
import { AdminRefused } from '../../app/admin-vocabulary.js';
import { adminServer } from './admin-server.js';
import { deviceSignIn } from './sign-in.js';
import { forgetSignIn, tokenCacheFile } from './token-cache.js';

/**
 * `dke login` and `dke logout` (contract §10): the operator's own sign-in for `dke --server URL …`. The admin API is the
 * root's `--server` option (or DKE_ADMIN_URL), so `dke login --server URL` reads as it is written.
 */
export function loginCommands(): Command[] {
  const login = new Command('login')
    .description('sign in to the admin API given with --server (or DKE_ADMIN_URL) with a device code; the tokens are cached for you alone')
    .action(async () => {
      const server = adminServer();
      if (server === undefined) throw new AdminRefused('Give the admin API to sign in to: dke login --server URL (or set DKE_ADMIN_URL).');
      const who = await deviceSignIn(server, (line) => process.stdout.write(`${line}\n`));
      process.stdout.write(`Signed in to ${server} as ${who}. The tokens are cached in ${tokenCacheFile()} (readable by you alone); "dke logout" removes them.\n`);
    });
  const logout = new Command('logout')
    .description('forget the cached sign-in to the admin API given with --server (or DKE_ADMIN_URL), else every cached sign-in')
    .action(() => {
      const server = adminServer();
      const forgot = forgetSignIn(server);
      const which = server === undefined ? 'every admin API' : server;
      process.stdout.write(forgot ? `Signed out of ${which}: the cached tokens are removed.\n` : `No cached sign-in to ${which}; nothing to remove.\n`);
    });
  return [login, logout];
}
