// What the SyncClient tells the app: its status, errors, and changes the server refused.
import type { ChangeSet, SnapshotProgress } from '@syncord/core';
import type { OfflineCause } from './offline-cause.js';

export type SyncStatus =
  /** Opening the socket and handshaking. */
  | { readonly state: 'connecting' }
  /** Receiving a snapshot (new replica, interrupted transfer, or re-bootstrap). */
  | { readonly state: 'bootstrapping'; readonly progress: SnapshotProgress }
  /** Connected; catching up or pushing. */
  | { readonly state: 'syncing' }
  /** Connected, caught up, nothing left to push; live changes keep arriving. */
  | { readonly state: 'synced' }
  /** Not connected; `retryInMs` when a reconnect is scheduled, `cause` why the last attempt ended. */
  | { readonly state: 'offline'; readonly retryInMs?: number; readonly cause?: OfflineCause }
  /** Stopped for good by a fatal error; connect() again to retry. */
  | { readonly state: 'error'; readonly error: SyncError };

export type SyncState = SyncStatus['state'];

/** An error from the server (`code` from its error message) or from the client itself. */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    /** The server's error code, or a client code: UPGRADE_REJECTED (fatal: an HTTP answer such as 404 instead of the upgrade), HANDSHAKE_TIMEOUT, PROTOCOL_ERROR, APPLY_FAILED, SNAPSHOT_FAILED, TIMEOUT (whenSynced). */
    readonly code: string,
    message: string,
    /** Fatal errors stop reconnecting. */
    readonly fatal = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A transaction the server refused (its `onBeforeApplyChanges` hook); it stays in the local replica. */
export interface RejectedChange {
  readonly transaction: ChangeSet;
  readonly reason: string;
  readonly code?: string;
}
