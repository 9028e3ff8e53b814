// <SyncordProvider database sync>: makes one LocalDatabase (and its SyncClient, when there is one)
// available to the hooks below it. The provider opens and closes nothing: the app owns both.
import { useMemo, type ReactElement, type ReactNode } from 'react';
import type { LocalDatabase, SyncClient } from '@syncord/client';
import { SyncordContext, useSyncord } from './context.js';

export interface SyncordProviderProps {
  readonly database: LocalDatabase;
  /** The client syncing `database`; undefined while there is none (useSyncStatus then says offline). */
  readonly sync?: SyncClient | undefined;
  readonly children?: ReactNode;
}

export function SyncordProvider({ database, sync, children }: SyncordProviderProps): ReactElement {
  const value = useMemo(() => ({ database, sync }), [database, sync]);
  return <SyncordContext.Provider value={value}>{children}</SyncordContext.Provider>;
}

/** The provider's database, for writes (`useDatabase().put(...)` or a declared table's put). */
export function useDatabase(): LocalDatabase {
  return useSyncord('useDatabase').database;
}

/** The provider's sync client, if it has one. */
export function useSyncClient(): SyncClient | undefined {
  return useSyncord('useSyncClient').sync;
}
