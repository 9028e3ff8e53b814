// The oracle of the WebSocket fuzz test: what the server must answer to each frame (PROTOCOL.md
// §3.4, §3.5; codes from the ERROR_CODES catalog). Whether a message is well formed is decided by
// the core decoders the server itself uses; the oracle adds the session state (before or after a
// handshake) and the §3.5 order, which the server must get right.
import {
  decodeApplyChanges,
  decodeGetChanges,
  decodeHandshake,
  decodeResumeSnapshot,
  decodeSiteId,
  parseMessage,
} from '@syncord/core';
import { DEFAULT_DATABASE_ID_PATTERN } from '@syncord/coordinator';

export type Frame =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'binary'; readonly bytes: Uint8Array }
  /** A text frame that is not UTF-8: ws closes the socket with 1007. */
  | { readonly kind: 'invalid-utf8'; readonly bytes: Uint8Array }
  /** A text frame `extra` bytes past maxMessageBytes: ws closes the socket with 1009. */
  | { readonly kind: 'oversize'; readonly extra: number };

/** A reply kind, or `error:<code>`; `snapshot` is snapshot_chunk… then snapshot_complete. */
export type Reply = 'pong' | 'handshake_ack' | 'changes' | 'apply_result' | 'snapshot' | `error:${string}`;

export interface Expectation {
  /** Any of these is a correct answer. */
  readonly accept: readonly Reply[];
  /** A transport-level close with no reply (oversize, bad UTF-8). */
  readonly closeWithoutReply?: number;
  /** A well-formed apply aimed at a guarded database: send it on a scratch session instead. */
  readonly divert?: boolean;
}

/** The §6.6 rule plus the configured length limit. */
export function validDatabaseId(id: string, target: FuzzTarget): boolean {
  return id.length <= target.maxDatabaseIdLength && DEFAULT_DATABASE_ID_PATTERN.test(id);
}

export interface SocketState {
  readonly phase: 'new' | 'ready';
  readonly databaseId?: string;
}

export interface FuzzTarget {
  /** Databases whose data must not change; only malformed applies reach them. */
  readonly guarded: readonly string[];
  /** Where well-formed applies aimed at a guarded database go. */
  readonly scratch: string;
  readonly maxDatabaseIdLength: number;
  readonly maxMessageBytes: number;
}

/** The client message types of §3.2. */
export const KNOWN_TYPES = ['handshake', 'get_changes', 'apply_changes', 'get_snapshot', 'resume_snapshot', 'ping'];

/** True when `f` throws: the core decoders are the judge of well-formedness. */
export function fails(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch {
    return true;
  }
}

const error = (code: string): Expectation => ({ accept: [`error:${code}`] });

/** The §3.5 order: version, already authenticated, missing id, then anything else in auth → AUTH_FAILED. */
function expectHandshake(
  raw: Record<string, unknown>,
  state: SocketState,
  target: FuzzTarget,
): { expect: Expectation; next: SocketState } {
  const fields = decodeHandshake(raw);
  const same = { next: state };
  if (fields.protocolVersion !== 1) {
    return { expect: error('PROTOCOL_VERSION_MISMATCH'), ...same };
  }
  if (state.phase === 'ready') return { expect: error('ALREADY_AUTHENTICATED'), ...same };
  if (!fields.databaseId) return { expect: error('MISSING_DATABASE_ID'), ...same };
  const id = fields.databaseId;
  const badSite = fields.siteId === undefined || fields.siteId === null || fails(() => decodeSiteId(fields.siteId));
  if (typeof id !== 'string' || badSite || !validDatabaseId(id, target)) {
    return { expect: error('AUTH_FAILED'), ...same };
  }
  // A mutated id may be valid and new: the server opens (creates) that database, which is legal.
  return { expect: { accept: ['handshake_ack'] }, next: { phase: 'ready', databaseId: id } };
}

/** What the server must answer to `frame` on a socket in `state`, and the state after it. */
export function expectReply(
  frame: Frame,
  state: SocketState,
  target: FuzzTarget,
): { expect: Expectation; next: SocketState } {
  const same = { next: state };
  if (frame.kind === 'oversize') return { expect: { accept: [], closeWithoutReply: 1009 }, ...same };
  if (frame.kind === 'invalid-utf8') return { expect: { accept: [], closeWithoutReply: 1007 }, ...same };
  if (frame.kind === 'binary') return { expect: error('MESSAGE_ERROR'), ...same };
  let parsed: ReturnType<typeof parseMessage>;
  try {
    parsed = parseMessage(frame.text);
  } catch {
    return { expect: error('MESSAGE_ERROR'), ...same };
  }
  const { type, raw } = parsed;
  if (type === 'ping') return { expect: { accept: ['pong'] }, ...same };
  if (type === 'handshake') return expectHandshake(raw, state, target);
  if (!KNOWN_TYPES.includes(type)) return { expect: error('UNKNOWN_MESSAGE'), ...same };
  if (state.phase !== 'ready') return { expect: error('NOT_AUTHENTICATED'), ...same };
  switch (type) {
    case 'get_changes':
      if (fails(() => decodeGetChanges(raw))) return { expect: error('GET_CHANGES_ERROR'), ...same };
      // A watermark older than the retention horizon is refused with RESYNC_REQUIRED (issue 4 item 6).
      return { expect: { accept: ['changes', 'error:RESYNC_REQUIRED'] }, ...same };
    case 'apply_changes': {
      if (fails(() => decodeApplyChanges(raw))) return { expect: error('APPLY_CHANGES_ERROR'), ...same };
      // Well formed: applied, or refused as a whole (drift gate, limits, origin check).
      const divert = target.guarded.includes(state.databaseId ?? '');
      return { expect: { accept: ['apply_result', 'error:APPLY_CHANGES_ERROR'], divert }, ...same };
    }
    case 'resume_snapshot':
      if (fails(() => decodeResumeSnapshot(raw))) return { expect: error('SNAPSHOT_ERROR'), ...same };
      return { expect: { accept: ['snapshot'] }, ...same };
    default:
      return { expect: { accept: ['snapshot'] }, ...same };
  }
}

/** Short and printable: fast-check prints counterexamples, and a frame may hold 100 k characters. */
export function describeFrame(frame: Frame): string {
  if (frame.kind === 'text') {
    return frame.text.length > 300 ? `${frame.text.slice(0, 300)}… (${frame.text.length} chars)` : frame.text;
  }
  if (frame.kind === 'oversize') return `oversize text frame (+${frame.extra} bytes)`;
  return `${frame.kind} frame [${[...frame.bytes].slice(0, 32).join(',')}]`;
}
