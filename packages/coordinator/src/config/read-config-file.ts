import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import type { PartialConfig } from './types.js';
import { checkLayer } from './validate-config.js';

const isErrno = (error: unknown): error is NodeJS.ErrnoException => error instanceof Error && 'code' in error;

/**
 * A JSON config file, checked (unknown keys and bad values are errors naming the file and key).
 * The default file is optional; a file the operator named must exist — PROTOCOL.md §9 ignores a
 * missing one, which would start a production server on defaults because of a typo.
 */
export function readConfigFile(path: string, mustExist: boolean): PartialConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (isErrno(error) && error.code === 'ENOENT') {
      if (!mustExist) return undefined;
      throw new ConfigError('--config', `no such file ${path}`);
    }
    throw new ConfigError(path, `cannot be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, `is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return checkLayer(parsed, path);
}
