export * from './bytes.js';
export * from './site-id.js';
export * from './hlc.js';
export * from './hybrid-clock.js';
export * from './transaction-id.js';
