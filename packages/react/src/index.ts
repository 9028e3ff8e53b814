// @syncord/react: React bindings for @syncord/client. <SyncordProvider> hands a LocalDatabase (and
// its SyncClient) to the hooks; useQuery and useRow re-render on local writes, synced changes and
// snapshots; useSyncStatus shows the sync state and the writes not yet acknowledged.
export { SyncordProvider, useDatabase, useSyncClient, type SyncordProviderProps } from './provider.js';
export { useQuery } from './use-query.js';
export { useRow } from './use-row.js';
export { useSyncStatus, type SyncStatusView } from './use-sync-status.js';
