export { createLogger, REDACTED_PATHS, resolveLogFormat } from './logger.js';
export type { Logger } from 'pino';
