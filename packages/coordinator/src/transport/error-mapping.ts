// Turning a failure into what each transport sends. Codes come from the one catalog
// (ERROR_CODES); an operation's own code is kept instead of a generic one.
import { ERROR_CODES, ProtocolError, WireError, type ErrorCode } from '@syncord/core';
import { AccessDeniedError, clientMessage, LimitExceededError } from '../service/index.js';

export interface WireFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** A ProtocolError's message was written for the client; anything else is scrubbed of storage detail. */
function messageOf(err: unknown): string {
  return err instanceof ProtocolError ? err.message : clientMessage(err);
}

/** WebSocket: a ProtocolError keeps its code; anything else (a WireError too) takes `fallback`. */
export function wsFailure(err: unknown, fallback: ErrorCode): WireFailure {
  if (err instanceof ProtocolError) return { code: err.code, message: err.message };
  return { code: fallback, message: messageOf(err) };
}

export type HttpOperationCode = 'GET_CHANGES_FAILED' | 'APPLY_CHANGES_FAILED' | 'SNAPSHOT_FAILED';

export interface HttpFailure extends WireFailure {
  readonly status: number;
}

/** The WebSocket code of an operation and its HTTP counterpart (PROTOCOL.md §4). */
const HTTP_CODE_OF: Partial<Record<ErrorCode, HttpOperationCode>> = {
  GET_CHANGES_ERROR: 'GET_CHANGES_FAILED',
  APPLY_CHANGES_ERROR: 'APPLY_CHANGES_FAILED',
  SNAPSHOT_ERROR: 'SNAPSHOT_FAILED',
};

/**
 * HTTP: 400 for a bad database id or malformed input, 401 for authentication, 403 for a client a
 * hook refused (onClientConnect, onAuthorize), 410 for a
 * watermark that needs a resync, 413 for a request over a limit, 503 for a server at a limit
 * right now (e.g. concurrent snapshots), 500 (the catalog's status) for the rest.
 */
export function httpFailure(err: unknown, operation: HttpOperationCode): HttpFailure {
  const message = messageOf(err);
  if (err instanceof LimitExceededError || err instanceof AccessDeniedError)
    return { status: err.httpStatus, code: operation, message };
  if (err instanceof WireError) return { status: 400, code: operation, message };
  if (err instanceof ProtocolError) {
    const code = HTTP_CODE_OF[err.code] ?? err.code;
    return { status: ERROR_CODES[code].httpStatus, code, message };
  }
  return { status: ERROR_CODES[operation].httpStatus, code: operation, message };
}

/** `code` is a catalog code, or a transport-level one (NOT_READY, INTERNAL_ERROR) outside the protocol. */
export function envelopeError(failure: { readonly code: string; readonly message: string }): {
  ok: false;
  error: { code: string; message: string };
} {
  return { ok: false, error: { code: failure.code, message: failure.message } };
}
