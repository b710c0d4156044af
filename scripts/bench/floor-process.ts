import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { productionNodeFlags } from './production-node-flags.js';
import type { RawTokenSettings } from './raw-decrypt.js';

export interface FloorProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts express-floor.js (with production's node flags, as every floor) answering `body` (the bytes the service's
 * GET returned), written to `dir`.
 */
export async function startExpressFloor(body: Buffer, dir: string): Promise<FloorProcess> {
  const bodyFile = join(dir, 'floor-body.json');
  writeFileSync(bodyFile, body);
  const child = spawn(process.execPath, [...productionNodeFlags(), fileURLToPath(new URL('./express-floor.js', import.meta.url)), bodyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  return floorProcess(child, 'the Express floor');
}

/** The decrypt floors (decrypt-floor.ts): bare node:http, the same on the service's decrypt threads, or Express 5 + helmet. */
export type DecryptFloorKind = 'bare' | 'threads' | 'express';

/** Starts decrypt-floor.js on the bench token (see there), with `sessions` sessions of its own (`nodeArgs` before it: --cpu-prof). */
export async function startDecryptFloor(settings: RawTokenSettings, sessions: number, kind: DecryptFloorKind, nodeArgs: readonly string[] = []): Promise<FloorProcess> {
  const floorSettings = { ...settings, sessions, express: kind === 'express', threads: kind === 'threads' };
  const child = spawn(process.execPath, [...productionNodeFlags(), ...nodeArgs, fileURLToPath(new URL('./decrypt-floor.js', import.meta.url)), JSON.stringify(floorSettings)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return floorProcess(child, 'the decrypt floor');
}

async function floorProcess(child: ChildProcess, name: string): Promise<FloorProcess> {
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
