export * from './clock/index.js';
export * from './wire/index.js';
export * from './replica/index.js';
