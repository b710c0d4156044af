import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';

/** A caller's id is kept only when it is short and plain, so it cannot forge log lines or headers. */
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Takes `x-request-id` from the caller when well-formed, else makes one; sends it back on every response. */
export function assignRequestId(req: Request, res: Response): void {
  const incoming = req.get('x-request-id');
  const id = incoming !== undefined && WELL_FORMED.test(incoming) ? incoming : randomUUID();
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
}
