export { buildApp, normalizeBasePath } from './app.js';
export type { AppOptions } from './app.js';
export { SHUTDOWN_CLOSE } from './ws-handler.js';
export { DEFAULT_SENDER_OPTIONS, TOO_FAR_BEHIND } from './socket-sender.js';
export type { SocketSenderOptions } from './socket-sender.js';
