import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from '../config/types.js';

/**
 * Secrets never reach a log line, whichever object carries them: the Authorization header of a
 * logged request, a handshake's token, the auth section of a logged config.
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'auth.tokens',
  'config.auth.tokens',
  's3.secretAccessKey',
  'config.s3.secretAccessKey',
  'metrics.token',
  'config.metrics.token',
];

/**
 * The coordinator's logger: structured JSON lines (pino) with ISO times and level names, usable
 * as Fastify's `loggerInstance`. Per-connection and per-request context goes in child loggers
 * (`logger.child({ connectionId })`; Fastify adds `reqId` itself). Writes to stdout unless a
 * destination is given.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'syncord', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
