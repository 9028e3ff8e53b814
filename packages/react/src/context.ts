// The database and sync client the hooks read, handed down by <SyncordProvider>.
import { createContext, useContext } from 'react';
import type { LocalDatabase, SyncClient } from '@syncord/client';

export interface SyncordContextValue {
  readonly database: LocalDatabase;
  readonly sync: SyncClient | undefined;
}

export const SyncordContext = createContext<SyncordContextValue | undefined>(undefined);

/** The provider's value; a hook used outside one fails with its own name in the message. */
export function useSyncord(hook: string): SyncordContextValue {
  const value = useContext(SyncordContext);
  if (!value) throw new Error(`${hook} must be called inside <SyncordProvider>`);
  return value;
}
