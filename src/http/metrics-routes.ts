import type { Express, IRouter, Request, Response } from 'express';
import type { HttpObserver, Logger, MetricsExposition } from '../keys/ports.js';
import { answerErrors, guardedApp, type HttpSettings } from './app.js';

/**
 * `GET /metrics` (contract §1): Prometheus text, without authentication (bind or firewall it). Only on the admin
 * listener or DKE_METRICS_PORT's, never on the DKE port (issue 26: it named every key, blocked and unpublished ones
 * too, to anyone who could reach the port Office reaches).
 */
export function addMetricsRoute(routes: IRouter, metrics: MetricsExposition): void {
  routes.get('/metrics', async (_req: Request, res: Response) => {
    res.set('Content-Type', metrics.contentType).send(await metrics.render());
  });
}

/** The listener of DKE_METRICS_PORT: `/metrics` and the JSON 404 of every other path. */
export function createMetricsApp(config: Pick<HttpSettings, 'trustProxy' | 'auth'>, logger: Logger, metrics: HttpObserver & MetricsExposition): Express {
  const app = guardedApp(config.trustProxy, logger, metrics);
  addMetricsRoute(app, metrics);
  answerErrors(app, config.auth, logger);
  return app;
}

/** How the admin API's OpenAPI document describes /metrics when the admin listener serves it. */
export const METRICS_OPENAPI_PATH = {
  get: {
    summary: 'contract §1: Prometheus text (served here unless DKE_METRICS_PORT has a listener of its own; never on the DKE port); no token: bind or firewall it',
    responses: { '200': { description: 'Prometheus text exposition', content: { 'text/plain': { schema: { type: 'string' } } } } },
  },
} as const;
