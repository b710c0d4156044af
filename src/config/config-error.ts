import { readFileSync } from 'node:fs';
import { DkeError } from '../keys/errors.js';

/** A setting is malformed or missing; the sentence names it. */
export class ConfigError extends DkeError {
  readonly code = 'config_invalid';
}

/** A PIN file's one line (a final newline is not part of the PIN); a refusal naming the file, never its content. */
export function readPinFile(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch {
    throw new ConfigError(`The PIN file ${path} cannot be read.`);
  }
}
