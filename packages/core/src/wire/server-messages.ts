// Server → client messages (PROTOCOL.md §3.3): typed shapes, the encoder every server reply goes
// through (plain JSON.stringify of decoded values would throw on bigint and mangle Uint8Array),
// and the decoder the client SDK uses.
import { decodeHLC, encodeHLC, type HLC } from '../clock/hlc.js';
import { decodeSiteId, encodeSiteId, type SiteId } from '../clock/site-id.js';
import { decodeChangeSet, encodeChangeSet } from './change-set.js';
import { decodeRequestId, type RequestId } from './client-messages.js';
import { CLIENT_FATAL_FALLBACK, ERROR_CODES, type ErrorCode } from './error-codes.js';
import { describeValue, expectArray, expectInteger, expectObject, expectString, fieldPath } from './fields.js';
import { parseMessage } from './parse-message.js';
import { decodeSnapshotChunk, encodeSnapshotChunk } from './snapshot.js';
import type { ApplyResult, ChangeSet, SnapshotChunk } from './types.js';
import { WireError } from './wire-error.js';

export interface HandshakeAckMessage {
  readonly type: 'handshake_ack';
  readonly databaseId?: string;
  readonly serverSiteId: SiteId;
  readonly connectionId?: string;
  readonly protocolVersion: number;
}
/**
 * Reply to get_changes: the client advances its received watermark to the max `hlc`. A catch-up
 * too large for one message arrives as several, in order; every one but the last carries
 * `more: true` and the last `more: false` (an extra field: clients that do not know it simply apply
 * each page; one that does knows from its presence that the server pages, so the last page means
 * caught up).
 */
export interface ChangesMessage {
  readonly type: 'changes';
  readonly changeSets: readonly ChangeSet[];
  readonly more?: boolean;
}
/** Unsolicited broadcast: applied, but the watermark does not move. */
export interface PushChangesMessage {
  readonly type: 'push_changes';
  readonly changeSets: readonly ChangeSet[];
}
export interface ApplyRejection {
  readonly reason: string;
  readonly code?: string;
  readonly table?: string;
  readonly column?: string;
}
export interface ApplyResultMessage extends Readonly<ApplyResult> {
  readonly type: 'apply_result';
  readonly requestId?: RequestId;
  readonly rejected?: readonly ApplyRejection[];
}
export interface SnapshotChunkMessage {
  readonly type: 'snapshot_chunk';
  readonly chunk: SnapshotChunk;
}
export interface SnapshotCompleteMessage {
  readonly type: 'snapshot_complete';
}
export interface ErrorMessage {
  readonly type: 'error';
  /** An ERROR_CODES key from this server; any string from another. */
  readonly code: string;
  readonly message: string;
  /** Always sent; on decode a missing flag takes the real client's fallback set. */
  readonly fatal: boolean;
  /** The failed request's id, echoed when it had one (an extra field the real client ignores). */
  readonly requestId?: RequestId;
}
export interface PongMessage {
  readonly type: 'pong';
}
/**
 * "Send me your changes since `sinceHLC` that did not originate at `siteId`"; answered with an
 * apply_changes without requestId. The coordinator uses it to pull the rest of a backlog from a
 * client that pushes one page per local write.
 */
export interface RequestChangesMessage {
  readonly type: 'request_changes';
  readonly siteId?: SiteId;
  readonly sinceHLC?: HLC;
}

export type ServerMessage =
  | HandshakeAckMessage
  | ChangesMessage
  | PushChangesMessage
  | ApplyResultMessage
  | SnapshotChunkMessage
  | SnapshotCompleteMessage
  | ErrorMessage
  | PongMessage
  | RequestChangesMessage;

/** A message type this SDK does not know; servers may add types (§3.3), so it is not an error. */
export interface UnknownServerMessage {
  readonly type: 'unknown';
  readonly raw: Record<string, unknown>;
}

/** The error message for a catalogued code, with the catalog's fatal flag. */
export function errorMessage(code: ErrorCode, message: string): ErrorMessage {
  return { type: 'error', code, message, fatal: ERROR_CODES[code].fatal };
}

/**
 * One JSON text per message. Encode a broadcast once and send the same string to every socket:
 * the change sets are serialised exactly once.
 */
export function encodeServerMessage(msg: ServerMessage): string {
  switch (msg.type) {
    case 'handshake_ack':
      return JSON.stringify({
        type: msg.type,
        ...(msg.databaseId !== undefined ? { databaseId: msg.databaseId } : {}),
        serverSiteId: encodeSiteId(msg.serverSiteId),
        ...(msg.connectionId !== undefined ? { connectionId: msg.connectionId } : {}),
        protocolVersion: msg.protocolVersion,
      });
    case 'changes':
      return JSON.stringify({
        type: msg.type,
        changeSets: msg.changeSets.map(encodeChangeSet),
        ...(msg.more !== undefined ? { more: msg.more } : {}),
      });
    case 'push_changes':
      return JSON.stringify({ type: msg.type, changeSets: msg.changeSets.map(encodeChangeSet) });
    case 'apply_result': {
      const out: Record<string, unknown> = { type: msg.type };
      if (msg.requestId !== undefined) out['requestId'] = msg.requestId;
      out['applied'] = msg.applied;
      out['skipped'] = msg.skipped;
      out['conflicts'] = msg.conflicts;
      out['transactions'] = msg.transactions;
      if (msg.unknownTable !== undefined) out['unknownTable'] = msg.unknownTable;
      if (msg.rejected !== undefined) out['rejected'] = msg.rejected.map(encodeRejection);
      return JSON.stringify(out);
    }
    case 'snapshot_chunk':
      return JSON.stringify({ type: msg.type, chunk: encodeSnapshotChunk(msg.chunk) });
    case 'error':
      return JSON.stringify({
        type: msg.type,
        code: msg.code,
        message: msg.message,
        fatal: msg.fatal === true,
        ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
      });
    case 'request_changes':
      return JSON.stringify({
        type: msg.type,
        ...(msg.siteId !== undefined ? { siteId: encodeSiteId(msg.siteId) } : {}),
        ...(msg.sinceHLC !== undefined ? { sinceHLC: encodeHLC(msg.sinceHLC) } : {}),
      });
    case 'snapshot_complete':
    case 'pong':
      return JSON.stringify({ type: msg.type });
  }
}

/**
 * encodeServerMessage of a `changes` message whose change sets are already wire text (a JSON
 * array, as Replica's ChangesCursor.nextJson writes it): the same bytes, without re-encoding them.
 */
export function encodeChangesJson(changeSetsJson: string, more?: boolean): string {
  return `{"type":"changes","changeSets":${changeSetsJson}${more !== undefined ? `,"more":${more}` : ''}}`;
}

/** encodeServerMessage of a `snapshot_chunk` whose chunk is already wire text (Replica.snapshotJson). */
export function encodeSnapshotChunkJson(chunkJson: string): string {
  return `{"type":"snapshot_chunk","chunk":${chunkJson}}`;
}

function encodeRejection(r: ApplyRejection): Record<string, string> {
  const out: Record<string, string> = { reason: r.reason };
  if (r.code !== undefined) out['code'] = r.code;
  if (r.table !== undefined) out['table'] = r.table;
  if (r.column !== undefined) out['column'] = r.column;
  return out;
}

/** Parses and validates one server frame; throws WireError on a malformed known message. */
export function decodeServerMessage(text: string): ServerMessage | UnknownServerMessage {
  const { type, raw } = parseMessage(text);
  switch (type) {
    case 'handshake_ack': {
      const protocolVersion = raw['protocolVersion'];
      if (typeof protocolVersion !== 'number') {
        throw new WireError(`protocolVersion must be a number, got ${describeValue(protocolVersion)}`);
      }
      const databaseId = raw['databaseId'];
      const connectionId = raw['connectionId'];
      return {
        type,
        serverSiteId: decodeSiteId(raw['serverSiteId'], 'serverSiteId'),
        protocolVersion,
        // Echo fields the client never relies on: kept when well-formed, otherwise dropped.
        ...(typeof databaseId === 'string' ? { databaseId } : {}),
        ...(typeof connectionId === 'string' ? { connectionId } : {}),
      };
    }
    case 'changes':
    case 'push_changes':
      return {
        type,
        changeSets: expectArray(raw['changeSets'], 'changeSets').map((cs, i) =>
          decodeChangeSet(cs, `changeSets[${i}]`),
        ),
        ...(type === 'changes' && typeof raw['more'] === 'boolean' ? { more: raw['more'] } : {}),
      };
    case 'apply_result':
      return decodeApplyResult(raw);
    case 'snapshot_chunk':
      return { type, chunk: decodeSnapshotChunk(raw['chunk'], 'chunk') };
    case 'error': {
      const code = expectString(raw['code'], 'code');
      const fatal = raw['fatal'];
      const requestId = decodeRequestId(raw['requestId']);
      return {
        type,
        code,
        message: expectString(raw['message'], 'message'),
        fatal: typeof fatal === 'boolean' ? fatal : CLIENT_FATAL_FALLBACK.has(code),
        ...(requestId !== undefined ? { requestId } : {}),
      };
    }
    case 'request_changes': {
      const siteId = raw['siteId'];
      const since = raw['sinceHLC'];
      return {
        type,
        ...(siteId !== undefined && siteId !== null ? { siteId: decodeSiteId(siteId, 'siteId') } : {}),
        ...(since !== undefined && since !== null && since !== '' ? { sinceHLC: decodeHLC(since, 'sinceHLC') } : {}),
      };
    }
    case 'snapshot_complete':
    case 'pong':
      return { type };
    default:
      return { type: 'unknown', raw };
  }
}

function decodeApplyResult(raw: Record<string, unknown>): ApplyResultMessage {
  const requestId = decodeRequestId(raw['requestId']);
  const unknownTable = raw['unknownTable'];
  if (unknownTable !== undefined && typeof unknownTable !== 'boolean') {
    throw new WireError(`unknownTable must be a boolean, got ${describeValue(unknownTable)}`);
  }
  const rejected =
    raw['rejected'] === undefined
      ? undefined
      : expectArray(raw['rejected'], 'rejected').map((r, i) => decodeRejection(r, `rejected[${i}]`));
  return {
    type: 'apply_result',
    ...(requestId !== undefined ? { requestId } : {}),
    applied: expectInteger(raw['applied'], 'applied'),
    skipped: expectInteger(raw['skipped'], 'skipped'),
    conflicts: expectInteger(raw['conflicts'], 'conflicts'),
    transactions: expectInteger(raw['transactions'], 'transactions'),
    ...(unknownTable !== undefined ? { unknownTable } : {}),
    ...(rejected !== undefined ? { rejected } : {}),
  };
}

function decodeRejection(json: unknown, what: string): ApplyRejection {
  const o = expectObject(json, what);
  const out: { reason: string; code?: string; table?: string; column?: string } = {
    reason: expectString(o['reason'], fieldPath(what, 'reason')),
  };
  for (const key of ['code', 'table', 'column'] as const) {
    const v = o[key];
    if (v !== undefined) out[key] = expectString(v, fieldPath(what, key));
  }
  return out;
}
