import express, { type Request, type Response, type Router } from 'express';
import type { Readiness } from '../app/readiness.js';

/** Probes for load balancers (contract §1): liveness answers while the process serves, readiness reports checks. */
export function healthRoutes(readiness: Readiness): Router {
  const router = express.Router();
  router.get('/health/live', (_req: Request, res: Response) => {
    res.json({ status: 'live' });
  });
  router.get('/health/ready', (_req: Request, res: Response) => {
    const report = readiness.report;
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  });
  return router;
}
