// What a SyncSession needs from its SyncClient, and what it hands back when it ends.
import type { SiteId, UnknownServerMessage } from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';
import type { BackoffOptions } from './backoff.js';
import type { SocketFactory } from './socket.js';
import type { OfflineCause } from './offline-cause.js';
import type { RejectedChange, SyncError, SyncStatus } from './status.js';

export interface SessionOptions {
  readonly batchSize: number;
  readonly handshakeTimeoutMs: number;
  readonly snapshotChunkTimeoutMs: number;
  readonly pushDebounceMs: number;
  readonly bootstrapOnEmpty: boolean;
  readonly heartbeatMs: number;
  /** Delays between re-sends of a push the server's rate limit dropped. */
  readonly retryBackoff: BackoffOptions;
}

export interface SessionTarget {
  readonly url: string;
  readonly databaseId: string;
  readonly token?: string;
}

/** What a session reports to its SyncClient. */
export interface SessionHost {
  readonly db: LocalDatabase;
  readonly options: SessionOptions;
  readonly target: SessionTarget;
  socketFactory(): Promise<SocketFactory>;
  setStatus(status: SyncStatus): void;
  handshakeSucceeded(serverSiteId: SiteId): void;
  reportError(error: SyncError): void;
  reportRejected(rejected: RejectedChange): void;
  /** The server acknowledged (or refused) a batch of local transactions. */
  writesAcknowledged(): void;
  reportUnhandled(message: UnknownServerMessage): void;
  nextRequestId(): string;
}

export interface SessionEnd {
  /** The handshake completed on this connection. */
  readonly handshaken: boolean;
  /** Set when a fatal error ended it: the client must not reconnect. */
  readonly fatal?: SyncError;
  /**
   * The server shed load (RATE_LIMITED, TOO_MANY_CONNECTIONS, close 1013 or 4008): the next
   * attempt keeps backing off even though this connection had handshaken.
   */
  readonly throttled?: boolean;
  /** Why the connection ended (or never opened), for the offline status. */
  readonly cause?: OfflineCause;
}
