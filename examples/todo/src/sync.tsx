// Everything the app knows about storage and sync, in one module: where the replica lives and how
// the SyncClient connects. The components use @syncord/react's bindings through this module too,
// so moving to other storage or bindings changes this file only.
import { SyncClient, type LocalDatabase } from '@syncord/client';
import { openBrowserDatabase } from '@syncord/client/browser';
import { DATABASE_ID, declareTodos, type TodosTable } from './schema.js';

export { SyncordProvider, useQuery, useSyncStatus } from '@syncord/react';

export interface TodoApp {
  readonly db: LocalDatabase;
  readonly todos: TodosTable;
  readonly sync: SyncClient;
  /** Disconnects (writes stay local, nothing is received) or connects again. */
  setOnline(online: boolean): void;
}

/** The coordinator serves the app, so the sync endpoint is on the page's own origin. */
function syncUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/sync/ws`;
}

export async function openTodoApp(): Promise<TodoApp> {
  // Kept in IndexedDB: a reload (even with the server down) finds the todos and the unsent writes,
  // and the tabs of this browser share their writes with each other at once.
  const { database: db } = await openBrowserDatabase('todos');
  const todos = declareTodos(db);
  // A todo list wants to be back soon after the server is: retries are capped at 5 s, not 30 s.
  const sync = new SyncClient(db, { reconnect: { baseDelayMs: 250, maxDelayMs: 5_000 } });
  const connect = (): void => {
    // connect() rejects only on a fatal error (or a disconnect first); the status shows either.
    sync.connect(syncUrl(), DATABASE_ID).catch(() => undefined);
  };
  connect();
  return {
    db,
    todos,
    sync,
    setOnline: (online) => {
      if (online) connect();
      else void sync.disconnect();
    },
  };
}
