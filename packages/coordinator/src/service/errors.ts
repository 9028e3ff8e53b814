// How the service reports failures: always a ProtocolError carrying the operation's code, so each
// handler keeps its own code (the reference turned many into a generic one).
import { ProtocolError, type ErrorCode } from '@syncord/core';

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

/** Keeps a ProtocolError's own code; wraps anything else in `code`. */
export function asProtocolError(err: unknown, code: ErrorCode, prefix?: string): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const message = prefix ? `${prefix}: ${describeError(err)}` : describeError(err);
  return new ProtocolError(code, message, { cause: err });
}
