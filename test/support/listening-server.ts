import type { Server } from 'node:http';
import type { Config } from '../../src/config/config.js';
import { listen } from '../../src/http/server.js';
import type { TestEnv } from './test-env.js';

export interface ListeningServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The test env's app (or its admin app: `which`) behind the production `listen()` (TLS, JSON answers for HTTP errors)
 * on 127.0.0.1:random.
 */
export async function listenOnLoopback(env: TestEnv, overrides: Partial<Config> = {}, which: 'app' | 'adminApp' = 'app'): Promise<ListeningServer> {
  const server = await listen(env.service[which], { ...env.config, port: 0, host: '127.0.0.1', ...overrides });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
