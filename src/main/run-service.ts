import type { Server } from 'node:http';
import { loadConfig, type Config } from '../config/config.js';
import { listen, reloadTls, stopGracefully } from '../http/server.js';
import type { Logger } from '../keys/ports.js';
import { createLogger } from '../log/logger.js';
import { openService, type Service } from './open-service.js';

/** In-flight requests get this long to finish after SIGTERM before the process exits anyway. */
const STOP_TIMEOUT_MS = 10_000;

export interface RunningService {
  readonly service: Service;
  readonly logger: Logger;
  readonly server: Server;
  readonly url: string;
  /** The admin API's listener, when DKE_ADMIN_PORT is set. */
  readonly adminServer?: Server;
  readonly adminUrl?: string;
  /** The listener of DKE_METRICS_PORT, when set. */
  readonly metricsServer?: Server;
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

/** Opens the service, listens, and returns a handle whose `stop` drains requests and then closes the HSM. */
export async function startService(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<RunningService> {
  const service = await openService(config, logger);
  let servers: Listeners;
  try {
    servers = await listenAll(service, config, logger);
  } catch (error) {
    await service.close();
    throw error;
  }
  const { server, adminServer, metricsServer } = servers;
  const scheme = config.tls ? 'https' : 'http';
  const url = `${scheme}://localhost:${boundPort(server, config.port)}${config.basePath}`;
  const adminUrl = adminServer === undefined ? undefined : `${scheme}://${config.admin!.host}:${boundPort(adminServer, config.admin!.port)}/admin/api`;
  const metricsUrl = metricsServer === undefined ? undefined : `${scheme}://${config.metrics!.host}:${boundPort(metricsServer, config.metrics!.port)}/metrics`;
  logger.info('listening', { url, ...(adminUrl ? { adminUrl } : {}), ...(metricsUrl ? { metricsUrl } : {}), token: service.hsm.token.label, ready: service.readiness.report.ready });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      // Every listener drains together; the HSM and the store close only once none has a request in flight.
      await Promise.all([server, adminServer, metricsServer].filter((s) => s !== undefined).map((s) => stopGracefully(s, STOP_TIMEOUT_MS)));
      await service.close();
      logger.info('stopped');
    })());
  return { service, logger, server, url, ...(adminServer ? { adminServer, adminUrl: adminUrl! } : {}), ...(metricsServer ? { metricsServer, metricsUrl: metricsUrl! } : {}), stop };
}

interface Listeners {
  readonly server: Server;
  readonly adminServer?: Server;
  readonly metricsServer?: Server;
}

/** The DKE port, then the admin and metrics listeners when configured; a failure closes those already listening. */
async function listenAll(service: Service, config: Config, logger: Logger): Promise<Listeners> {
  const tls = config.tls ? { tls: config.tls } : {};
  const opened: Server[] = [];
  const open = async (app: Service['app'], where: { port: number | string; host: string }): Promise<Server> => {
    const server = await listen(app, { ...where, ...tls }, { logger });
    opened.push(server);
    return server;
  };
  try {
    const server = await open(service.app, config);
    const adminServer = config.admin !== undefined ? await open(service.adminApp, config.admin) : undefined;
    const metricsServer = config.metrics !== undefined && service.metricsApp !== undefined ? await open(service.metricsApp, config.metrics) : undefined;
    return { server, ...(adminServer ? { adminServer } : {}), ...(metricsServer ? { metricsServer } : {}) };
  } catch (error) {
    await Promise.all(opened.map((server) => stopGracefully(server, 0)));
    throw error;
  }
}

function boundPort(server: Server, configured: number | string): number | string {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : configured;
}

/** Stops gracefully on SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the HSM, exit 0. */
export function stopOnSignals(running: { stop(): Promise<void> }, logger: Logger): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info('stopping', { signal });
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('stop failed', { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/**
 * A programming error must never leave the process half-working or leak to a caller: an uncaught exception or an
 * unhandled rejection is logged and the process exits non-zero, so the supervisor (systemd, Kubernetes, iisnode)
 * restarts a clean process.
 */
export function exitOnProgrammingErrors(logger: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  const handlers = programmingErrorHandlers(logger, exit);
  process.on('uncaughtException', handlers.uncaughtException);
  process.on('unhandledRejection', handlers.unhandledRejection);
}

/** What exitOnProgrammingErrors installs: each handler logs what went wrong (never the data), then exits with 1. */
export function programmingErrorHandlers(logger: Logger, exit: (code: number) => void): { uncaughtException(error: Error): void; unhandledRejection(reason: unknown): void } {
  return {
    uncaughtException: (error) => {
      logger.error('uncaught exception', { name: error.name, message: error.message, stack: error.stack });
      exit(1);
    },
    unhandledRejection: (reason) => {
      logger.error('unhandled rejection', { reason: reason instanceof Error ? `${reason.name}: ${reason.message}` : typeof reason });
      exit(1);
    },
  };
}

/** `dke serve` (what npm start runs): the configured service until SIGTERM, reloading TLS on SIGHUP. */
export async function serve(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  exitOnProgrammingErrors(logger);
  // The handlers come before the start: a SIGTERM just after the `listening` line must stop gracefully, not kill the
  // process with the signal's default action.
  const starting = startService(config, logger);
  stopOnSignals({ stop: async () => (await starting).stop() }, logger);
  const running = await starting;
  process.on('SIGHUP', () => {
    try {
      reloadTls(running.server, config);
      if (running.adminServer) reloadTls(running.adminServer, config);
      if (running.metricsServer) reloadTls(running.metricsServer, config);
      logger.info('TLS certificate reloaded');
    } catch (error) {
      logger.error('TLS certificate reload failed; the previous one stays in use', { error: error instanceof Error ? error.message : String(error) });
    }
  });
}
