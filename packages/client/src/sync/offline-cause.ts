// Why the client is offline, in terms a UI can show: the socket could not connect (refused, name
// not resolved, an HTTP answer instead of an upgrade), the server refused the session, or an
// open connection ended. What the platform tells differs: the `ws` package (Node 20) gives the
// system error code and the HTTP status; a browser WebSocket hides both, so there every failure
// to connect is `network`.
import { SyncError } from './status.js';

export type OfflineCause =
  /** Nothing listens at the address (ECONNREFUSED). */
  | { readonly kind: 'refused'; readonly message: string }
  /** The host name does not resolve (ENOTFOUND, EAI_AGAIN). */
  | { readonly kind: 'dns'; readonly message: string }
  /** The server answered the upgrade with this HTTP status (a 5xx, 408 or 429: worth retrying). */
  | { readonly kind: 'http'; readonly status: number; readonly message: string }
  /** The server did not accept the credentials for now (NOT_AUTHENTICATED). */
  | { readonly kind: 'auth'; readonly code: string; readonly message: string }
  /** A server or client error ended the session (TOO_MANY_CONNECTIONS, HANDSHAKE_TIMEOUT, …). */
  | { readonly kind: 'error'; readonly code: string; readonly message: string }
  /** An open connection closed (the server's close code when there was one; 1006: lost). */
  | { readonly kind: 'closed'; readonly code?: number; readonly message: string }
  /** Any other failure to connect. */
  | { readonly kind: 'network'; readonly message: string };

/** The socket's failure before it opened, as a cause; or a fatal SyncError when retrying cannot help. */
export function connectFailure(err: unknown, url: string): OfflineCause | SyncError {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; error?: unknown };
  const inner = (e.error ?? e) as { code?: unknown; message?: unknown };
  const message = typeof inner.message === 'string' && inner.message !== '' ? inner.message : 'connection failed';
  const status = /Unexpected server response: (\d{3})/.exec(message)?.[1];
  if (status !== undefined) return httpFailure(Number(status), url);
  const code = typeof inner.code === 'string' ? inner.code : '';
  if (code === 'ECONNREFUSED') return { kind: 'refused', message: `Connection refused at ${url}` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return { kind: 'dns', message: `Cannot resolve the host of ${url}` };
  return { kind: 'network', message };
}

/**
 * An HTTP answer to the upgrade. A wrong path (404), a missing or refused credential (401, 403)
 * or any other answer that is not an overloaded or failing server will be the same next time:
 * fatal, so connect() fails at once instead of the client looking offline forever.
 */
function httpFailure(status: number, url: string): OfflineCause | SyncError {
  if (status >= 500 || status === 408 || status === 429) {
    return { kind: 'http', status, message: `The server answered HTTP ${status} to the WebSocket upgrade` };
  }
  if (status === 401 || status === 403) {
    return new SyncError('AUTH_FAILED', `The server refused the WebSocket upgrade at ${url} with HTTP ${status}`, true);
  }
  const hint = status === 404 ? ' (wrong path? Syncord serves /sync/ws)' : '';
  return new SyncError(
    'UPGRADE_REJECTED',
    `The server answered HTTP ${status} instead of a WebSocket upgrade at ${url}${hint}`,
    true,
  );
}

/** The error that ended a session, as a cause. */
export function errorCause(error: SyncError): OfflineCause {
  if (error.code === 'NOT_AUTHENTICATED' || error.code === 'AUTH_FAILED') {
    return { kind: 'auth', code: error.code, message: error.message };
  }
  return { kind: 'error', code: error.code, message: error.message };
}
