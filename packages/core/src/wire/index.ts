export * from './wire-error.js';
export * from './base64.js';
export * from './types.js';
export * from './error-codes.js';
export * from './sql-value.js';
