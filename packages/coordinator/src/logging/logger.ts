import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config/types.js';

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
  'admin.token',
  'config.admin.token',
];

/** `auto` is for people at a terminal and for collectors reading a pipe alike. */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'pretty' | 'json' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

/**
 * The coordinator's logger: structured JSON lines (pino) with ISO times and level names, usable
 * as Fastify's `loggerInstance`. Per-connection and per-request context goes in child loggers
 * (`logger.child({ connectionId })`; Fastify adds `reqId` itself). Writes to stdout unless a
 * destination is given. `pretty` renders the same records as readable lines (time, level,
 * message, then the fields), synchronously so a crash loses no line.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const toTerminal = destination === undefined && process.stdout.isTTY === true;
  const out =
    resolveLogFormat(format, toTerminal) === 'pretty'
      ? pretty({
          destination: destination ?? 1,
          sync: true,
          colorize: toTerminal,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service',
        })
      : (destination ?? pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level,
      base: { service: 'syncord', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    },
    out,
  );
}
