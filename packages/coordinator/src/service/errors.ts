// How the service reports failures: always a ProtocolError carrying the operation's code, so each
// handler keeps its own code (the reference turned many into a generic one).
import { ProtocolError, type ErrorCode } from '@syncord/core';
import type { Logger } from 'pino';

/**
 * A configured limit was exceeded; WebSocket answers the operation's code, HTTP `httpStatus`
 * (413 for a request too large, 503 for a server too busy right now).
 */
export class LimitExceededError extends ProtocolError {
  constructor(
    code: ErrorCode,
    readonly limit: string,
    message: string,
    readonly httpStatus = 413,
  ) {
    super(code, message);
  }
}

/**
 * A hook refused the client (onClientConnect false, onAuthorize false): WebSocket answers the
 * operation's code as any failure, HTTP answers 403 instead of the operation's 500.
 */
export class AccessDeniedError extends ProtocolError {
  readonly httpStatus = 403;
}

/** The socket closed while its handshake was processed: nothing is registered and no ack is sent. */
export class ConnectionClosedError extends Error {
  override readonly name = 'ConnectionClosedError';
  constructor() {
    super('Connection closed');
  }
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The code of a storage failure: a system error (EMFILE, ENOSPC, …) or a SQLite one (SQLITE_FULL, …). */
export function storageErrorCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^(E[A-Z]+|SQLITE_[A-Z_]+)$/.test(code) ? code : undefined;
}

/**
 * What a client is told of a failure. A storage error's message can name server files, so the
 * client gets its code only (the caller logs the whole error).
 */
export function clientMessage(err: unknown): string {
  const code = storageErrorCode(err);
  return code ? `storage error (${code}); try again later` : describeError(err);
}

/** Keeps a ProtocolError's own code; wraps anything else in `code`, with a message safe to send. */
export function asProtocolError(err: unknown, code: ErrorCode, prefix?: string): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const message = prefix ? `${prefix}: ${clientMessage(err)}` : clientMessage(err);
  return new ProtocolError(code, message, { cause: err });
}

/** asProtocolError for a session's operation; a storage failure is logged whole with the connection id. */
export function operationError(
  log: Logger,
  session: { readonly connectionId: string; readonly databaseId: string },
  err: unknown,
  code: ErrorCode,
  prefix?: string,
): ProtocolError {
  if (!(err instanceof ProtocolError) && storageErrorCode(err)) {
    log.error({ err, connectionId: session.connectionId, databaseId: session.databaseId }, 'storage failure');
  }
  return asProtocolError(err, code, prefix);
}
