export { buildApp, normalizeBasePath } from './app.js';
export type { AppOptions } from './app.js';
export { HANDSHAKE_TIMEOUT_CLOSE, RATE_EXCEEDED_CLOSE, SHUTDOWN_CLOSE } from './ws-handler.js';
export { RATE_DROP_CLOSE } from './dropped-message.js';
export { TOO_FAR_BEHIND } from './socket-sender.js';
export type { SocketSenderOptions } from './socket-sender.js';
export { StaticDirError } from './static-files.js';
