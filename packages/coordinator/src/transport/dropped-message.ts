// What a message the rate limiter drops is answered with. The client must never wait forever for
// a reply that will not come: an apply_changes with a requestId gets RATE_LIMITED echoing its id
// and the socket stays open; a request whose reply the client cannot tell from others (the
// handshake, get_changes, a snapshot, an apply without requestId) gets RATE_LIMITED and the
// socket closes, so the client reconnects and asks again; the rest (ping, unknown or unreadable
// messages) only gets the error.
import { decodeRequestId, parseMessage, type RequestId } from '@syncord/core';

/** 1013 "Try again later": the real client and our SDK both reconnect after a delay. */
export const RATE_DROP_CLOSE = { code: 1013, reason: 'Message rate exceeded; try again later' } as const;

/** Requests the client waits on without an id to match an error to. */
const UNMATCHABLE = new Set(['handshake', 'get_changes', 'get_snapshot', 'resume_snapshot']);

export interface DropAnswer {
  /** Echoed in the RATE_LIMITED error. */
  readonly requestId?: RequestId;
  /** Close with RATE_DROP_CLOSE after the error. */
  readonly close: boolean;
}

/** The apply's requestId, or undefined when it has none or an invalid one (nothing to echo). */
export function requestIdOf(raw: Record<string, unknown>): RequestId | undefined {
  try {
    return decodeRequestId(raw['requestId']);
  } catch {
    return undefined;
  }
}

/** `text` is the frame's text, undefined for a binary frame. */
export function dropAnswer(text: string | undefined): DropAnswer {
  if (text === undefined) return { close: false };
  let type: string;
  let raw: Record<string, unknown>;
  try {
    ({ type, raw } = parseMessage(text));
  } catch {
    return { close: false };
  }
  if (type === 'apply_changes') {
    const requestId = requestIdOf(raw);
    return requestId === undefined ? { close: true } : { requestId, close: false };
  }
  return { close: UNMATCHABLE.has(type) };
}
