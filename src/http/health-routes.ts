import type { IRouter, Request, Response } from 'express';
import type { Readiness } from '../app/readiness.js';

/** Probes for load balancers (contract §1): liveness answers while the process serves, readiness reports checks. */
export function addHealthRoutes(router: IRouter, readiness: Readiness): void {
  router.get('/health/live', (_req: Request, res: Response) => {
    res.json({ status: 'live' });
  });
  router.get('/health/ready', (_req: Request, res: Response) => {
    const report = readiness.report;
    const now = Date.now();
    // Checks run in the background; the age tells a prober how fresh each verdict is.
    const checks = Object.fromEntries(
      Object.entries(report.checks).map(([name, check]) => [name, { ...check, ageSeconds: Math.max(0, Math.round((now - Date.parse(check.checkedAt)) / 1000)) }]),
    );
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ready' : 'not_ready', checks });
  });
}
