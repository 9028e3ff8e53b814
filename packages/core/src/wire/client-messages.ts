// Client → server messages (PROTOCOL.md §3.2): typed shapes, the encoder the client SDK uses and
// the per-type decoders the server calls after parseMessage.
import { decodeHLC, encodeHLC, type HLC } from '../clock/hlc.js';
import { encodeSiteId, type SiteId } from '../clock/site-id.js';
import { decodeChangeSet, encodeChangeSet } from './change-set.js';
import { describeValue, expectArray } from './fields.js';
import { decodeCheckpoint, encodeCheckpoint } from './snapshot.js';
import type { ChangeSet, SnapshotCheckpoint } from './types.js';
import { WireError } from './wire-error.js';

/** Echoed exactly in the matching apply_result; the real client sends "apply-1", "apply-2", … */
export type RequestId = string | number;

export interface HandshakeMessage {
  readonly type: 'handshake';
  readonly databaseId: string;
  readonly siteId: SiteId;
  readonly token?: string;
  /** PROTOCOL_VERSION for a conforming client; settable so tests can send a mismatch. */
  readonly protocolVersion: number;
}
export interface GetChangesMessage {
  readonly type: 'get_changes';
  readonly sinceHLC?: HLC;
}
export interface ApplyChangesMessage {
  readonly type: 'apply_changes';
  readonly requestId?: RequestId;
  /** Sent as `changes` on the wire. */
  readonly changeSets: readonly ChangeSet[];
}
export interface GetSnapshotMessage {
  readonly type: 'get_snapshot';
}
export interface ResumeSnapshotMessage {
  readonly type: 'resume_snapshot';
  readonly checkpoint: SnapshotCheckpoint;
}
export interface PingMessage {
  readonly type: 'ping';
}

export type ClientMessage =
  HandshakeMessage | GetChangesMessage | ApplyChangesMessage | GetSnapshotMessage | ResumeSnapshotMessage | PingMessage;

export function encodeClientMessage(msg: ClientMessage): string {
  switch (msg.type) {
    case 'handshake': {
      const out: Record<string, unknown> = {
        type: msg.type,
        databaseId: msg.databaseId,
        siteId: encodeSiteId(msg.siteId),
      };
      if (msg.token !== undefined) out['token'] = msg.token;
      out['protocolVersion'] = msg.protocolVersion;
      return JSON.stringify(out);
    }
    case 'get_changes':
      return JSON.stringify(
        msg.sinceHLC === undefined ? { type: msg.type } : { type: msg.type, sinceHLC: encodeHLC(msg.sinceHLC) },
      );
    case 'apply_changes':
      return JSON.stringify({
        type: msg.type,
        ...(msg.requestId !== undefined ? { requestId: msg.requestId } : {}),
        changes: msg.changeSets.map(encodeChangeSet),
      });
    case 'resume_snapshot':
      return JSON.stringify({ type: msg.type, checkpoint: encodeCheckpoint(msg.checkpoint) });
    case 'get_snapshot':
    case 'ping':
      return JSON.stringify({ type: msg.type });
  }
}

/**
 * The handshake fields, typed only as far as is safe: the server must check them in the §3.5
 * order with a different error code for each (version first, then databaseId, then siteId during
 * auth), so this decoder never throws and leaves those three for the server to judge.
 */
export interface HandshakeFields {
  /** Anything but PROTOCOL_VERSION (missing included) → PROTOCOL_VERSION_MISMATCH. */
  readonly protocolVersion: unknown;
  /** Falsy → MISSING_DATABASE_ID; a non-string or bad id → AUTH_FAILED. */
  readonly databaseId: unknown;
  /** Decode with decodeSiteId during auth; failure → AUTH_FAILED. */
  readonly siteId: unknown;
  /**
   * A non-string token reads as absent: no whitelist can hold it, so the outcome is the
   * reference's (AUTH_FAILED in token mode, ignored otherwise), only the message differs.
   */
  readonly token?: string;
}

export function decodeHandshake(raw: Record<string, unknown>): HandshakeFields {
  const token = raw['token'];
  return {
    protocolVersion: raw['protocolVersion'],
    databaseId: raw['databaseId'],
    siteId: raw['siteId'],
    ...(typeof token === 'string' ? { token } : {}),
  };
}

/** `sinceHLC` omitted, null or "" means "from zero"; anything else must be a valid HLC. */
export function decodeGetChanges(raw: Record<string, unknown>): { sinceHLC?: HLC } {
  const since = raw['sinceHLC'];
  if (since === undefined || since === null || since === '') return {};
  return { sinceHLC: decodeHLC(since, 'sinceHLC') };
}

/** `requestId`, when present, must be a string or a finite number and is returned untouched. */
export function decodeRequestId(json: unknown, what = 'requestId'): RequestId | undefined {
  if (json === undefined) return undefined;
  if (typeof json === 'string' || (typeof json === 'number' && Number.isFinite(json))) return json;
  throw new WireError(`${what} must be a string or a number, got ${describeValue(json)}`);
}

export function decodeApplyChanges(raw: Record<string, unknown>): {
  requestId?: RequestId;
  changeSets: ChangeSet[];
} {
  const requestId = decodeRequestId(raw['requestId']);
  const changeSets = expectArray(raw['changes'], 'changes').map((cs, i) => decodeChangeSet(cs, `changes[${i}]`));
  return requestId === undefined ? { changeSets } : { requestId, changeSets };
}

export function decodeResumeSnapshot(raw: Record<string, unknown>): { checkpoint: SnapshotCheckpoint } {
  return { checkpoint: decodeCheckpoint(raw['checkpoint'], 'checkpoint') };
}
