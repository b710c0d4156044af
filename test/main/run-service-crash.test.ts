/**
 * Contract §1 (a service half-working is worse than one restarted) and src/main/run-service.ts: an uncaught exception
 * or an unhandled rejection in `dke serve` is logged and ends the process with a non-zero code, so the supervisor
 * (systemd, Kubernetes, iisnode) restarts a clean one. The handlers alone, then the real process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'mocha';
import type { Logger } from '../../src/keys/ports.js';
import { programmingErrorHandlers } from '../../src/main/run-service.js';

/** The compiled modules beside the compiled tests (the build-test folder's src/). */
const RUN_SERVICE = fileURLToPath(new URL('../../src/main/run-service.js', import.meta.url));
const LOGGER = fileURLToPath(new URL('../../src/log/logger.js', import.meta.url));

function recordingLogger(lines: { message: string; fields?: Record<string, unknown> }[]): Logger {
  const record = (message: string, fields?: Record<string, unknown>): void => {
    lines.push({ message, ...(fields !== undefined ? { fields } : {}) });
  };
  return { debug: record, info: record, warn: record, error: record };
}

describe('run-service: a programming error ends the process (exit 1) after it is logged', () => {
  it('an unhandled rejection is logged with its error class and message, then exit(1)', () => {
    const lines: { message: string; fields?: Record<string, unknown> }[] = [];
    const exits: number[] = [];
    const handlers = programmingErrorHandlers(recordingLogger(lines), (code) => exits.push(code));
    handlers.unhandledRejection(new TypeError('x is not a function'));
    handlers.unhandledRejection('a bare string, never logged as such');
    assert.deepEqual(lines, [
      { message: 'unhandled rejection', fields: { reason: 'TypeError: x is not a function' } },
      { message: 'unhandled rejection', fields: { reason: 'string' } },
    ]);
    assert.deepEqual(exits, [1, 1]);
  });

  it('an uncaught exception is logged, then exit(1)', () => {
    const lines: { message: string; fields?: Record<string, unknown> }[] = [];
    const exits: number[] = [];
    programmingErrorHandlers(recordingLogger(lines), (code) => exits.push(code)).uncaughtException(new RangeError('out of range'));
    assert.equal(lines[0]?.message, 'uncaught exception');
    assert.equal(lines[0]?.fields?.message, 'out of range');
    assert.deepEqual(exits, [1]);
  });

  it('a real process with the handlers installed exits 1 on a rejection nobody handles, its log line written', async function () {
    this.timeout(20_000);
    // A timer keeps the process alive: without the handler's exit it would run on (and be killed after 10 s).
    const script = [
      `const { exitOnProgrammingErrors } = await import(${JSON.stringify(RUN_SERVICE)});`,
      `const { createLogger } = await import(${JSON.stringify(LOGGER)});`,
      `exitOnProgrammingErrors(createLogger('info'));`,
      `setInterval(() => undefined, 1000);`,
      `void Promise.reject(new Error('lost promise'));`,
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    assert.deepEqual([code, signal], [1, null], `the process went on running or ended otherwise; stdout: ${stdout}`);
    const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as { level: string; message: string; reason: string };
    assert.deepEqual([line.level, line.message, line.reason], ['error', 'unhandled rejection', 'Error: lost promise']);
  });
});
