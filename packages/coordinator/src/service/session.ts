// A session: one authenticated client bound to one database for as long as it holds a store
// reference (a WebSocket connection, or a single HTTP request).
import type { Replica } from '@syncord/core';
import type { StoreHandle } from '../stores/index.js';
import type { ClientIdentity } from './types.js';

export interface Session {
  /** A fresh random UUID (sent in handshake_ack on WebSocket). */
  readonly connectionId: string;
  readonly databaseId: string;
  readonly identity: ClientIdentity;
  readonly transport: 'websocket' | 'http';
  /** The token the client presented, for store hooks. */
  readonly token?: string;
  /** The session's store reference; released exactly once when the session ends. */
  readonly store: StoreHandle;
}

export function replicaOf(session: Session): Replica {
  return session.store.replica;
}
