export * from './replica-api.js';
