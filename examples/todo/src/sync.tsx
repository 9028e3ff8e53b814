// Everything the app knows about storage and sync, in one module: where the replica lives, how
// the SyncClient connects, and the React bindings the components use. The bindings follow the
// names and shapes of @syncord/react (SyncordProvider, useQuery, useSyncStatus), so moving to
// that package, and to persistent browser storage, changes this file only.
import { SyncClient, type LocalDatabase, type QueryOptions, type SyncStatus } from '@syncord/client';
import { openBrowserDatabase } from '@syncord/client/browser';
import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { DATABASE_ID, declareTodos, type TodosTable } from './schema.js';

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

interface Bindings {
  readonly database: LocalDatabase;
  readonly sync: SyncClient | undefined;
}

const SyncordContext = createContext<Bindings | undefined>(undefined);

export function SyncordProvider(props: {
  database: LocalDatabase;
  sync: SyncClient | undefined;
  children?: ReactNode;
}) {
  const { database, sync, children } = props;
  return <SyncordContext.Provider value={{ database, sync }}>{children}</SyncordContext.Provider>;
}

function useBindings(): Bindings {
  const bindings = useContext(SyncordContext);
  if (!bindings) throw new Error('useQuery and useSyncStatus need a <SyncordProvider> above them');
  return bindings;
}

/** The rows of a live query, re-rendered whenever they change. */
export function useQuery<Row extends object>(
  table: { watch(options: QueryOptions<Row>, listener: (rows: Row[]) => void): () => void },
  options: QueryOptions<Row> = {},
): Row[] {
  const [rows, setRows] = useState<Row[]>([]);
  // The options object is usually written inline: watch again only when its content changes.
  const key = JSON.stringify(options);
  useEffect(() => table.watch(JSON.parse(key) as QueryOptions<Row>, setRows), [table, key]);
  return rows;
}

/** Writes the SyncClient has not had acknowledged yet, once the SDK reports them. */
function pendingOf(sync: SyncClient | undefined): number {
  const count = (sync as { pendingWrites?: unknown } | undefined)?.pendingWrites;
  return typeof count === 'number' ? count : 0;
}

export function useSyncStatus(): { status: SyncStatus; pendingWrites: number } {
  const { sync } = useBindings();
  const status = useSyncExternalStore(
    (notify) => sync?.on('status', notify) ?? (() => undefined),
    (): SyncStatus => sync?.status ?? { state: 'offline' },
  );
  return { status, pendingWrites: pendingOf(sync) };
}
