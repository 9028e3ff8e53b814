/**
 * The one catalog of protocol errors (PROTOCOL.md §3.4, §4): code, fatal flag, WebSocket close
 * code (when the socket is closed) and HTTP status. Both transports and the client read it.
 */
export interface ErrorCodeInfo {
  readonly fatal: boolean;
  /** Close code and reason when the server closes the socket after sending the error. */
  readonly close?: { readonly code: number; readonly reason: string };
  readonly httpStatus: number;
}

export const ERROR_CODES = {
  PROTOCOL_VERSION_MISMATCH: {
    fatal: true,
    close: { code: 4003, reason: 'Protocol version mismatch' },
    httpStatus: 400,
  },
  ALREADY_AUTHENTICATED: { fatal: true, httpStatus: 400 },
  MISSING_DATABASE_ID: { fatal: true, close: { code: 4002, reason: 'Missing databaseId' }, httpStatus: 400 },
  AUTH_FAILED: { fatal: true, close: { code: 4001, reason: 'Authentication failed' }, httpStatus: 401 },
  NOT_AUTHENTICATED: { fatal: false, httpStatus: 401 },
  GET_CHANGES_ERROR: { fatal: false, httpStatus: 500 },
  APPLY_CHANGES_ERROR: { fatal: false, httpStatus: 500 },
  SNAPSHOT_ERROR: { fatal: false, httpStatus: 500 },
  UNKNOWN_MESSAGE: { fatal: false, httpStatus: 400 },
  MESSAGE_ERROR: { fatal: false, httpStatus: 400 },
  /** Ours: the watermark is older than the retention horizon; re-bootstrap from a snapshot. */
  RESYNC_REQUIRED: { fatal: false, httpStatus: 410 },
  /** Ours: the server or the database has all the connections it takes; retry with backoff. */
  TOO_MANY_CONNECTIONS: { fatal: false, close: { code: 1013, reason: 'Try again later' }, httpStatus: 503 },
  /**
   * Ours: the database cannot be opened right now (the server has `stores.maxOpenStores` databases
   * in use, storage failed, or the server is stopping); retry with backoff.
   */
  STORAGE_UNAVAILABLE: { fatal: false, close: { code: 1013, reason: 'Try again later' }, httpStatus: 503 },
  /** Ours: the connection sends faster than its message rate; the message was dropped. */
  RATE_LIMITED: { fatal: false, httpStatus: 429 },
  // HTTP-only codes (PROTOCOL.md §4)
  INVALID_DATABASE_ID: { fatal: false, httpStatus: 400 },
  INVALID_BODY: { fatal: false, httpStatus: 400 },
  GET_CHANGES_FAILED: { fatal: false, httpStatus: 500 },
  APPLY_CHANGES_FAILED: { fatal: false, httpStatus: 500 },
  SNAPSHOT_FAILED: { fatal: false, httpStatus: 500 },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The real client's fallback when an error message carries no `fatal` flag. */
export const CLIENT_FATAL_FALLBACK: ReadonlySet<string> = new Set([
  'AUTH_FAILED',
  'MISSING_DATABASE_ID',
  'ALREADY_AUTHENTICATED',
]);

/** An error that carries its protocol code; transports map it through ERROR_CODES. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  get info(): ErrorCodeInfo {
    return ERROR_CODES[this.code];
  }
}
