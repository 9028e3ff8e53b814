export { createLogger, REDACTED_PATHS } from './logger.js';
export type { Logger } from 'pino';
