// useSyncStatus: what a status bar shows, the sync state (with snapshot progress and the offline
// cause) and how many local writes the server has not acknowledged yet ("saved locally" vs
// "synced"). Re-renders on every status report and every change of the count.
import type { SyncClient, SyncStatus } from '@syncord/client';
import { useSyncord } from './context.js';
import { useLiveValue, type LiveSource } from './live-value.js';

export interface SyncStatusView {
  readonly status: SyncStatus;
  /** SyncClient.pendingWrites: local transactions not acknowledged (0 without a sync client). */
  readonly pendingWrites: number;
}

const NO_CLIENT: SyncStatusView = { status: { state: 'offline' }, pendingWrites: 0 };

export function useSyncStatus(): SyncStatusView {
  const { sync } = useSyncord('useSyncStatus');
  return useLiveValue(() => (sync ? clientStatus(sync) : NO_SOURCE), [sync]);
}

const NO_SOURCE: LiveSource<SyncStatusView> = { read: () => NO_CLIENT, watch: () => () => {}, same: () => true };

function clientStatus(sync: SyncClient): LiveSource<SyncStatusView> {
  const read = (): SyncStatusView => ({ status: sync.status, pendingWrites: sync.pendingWrites });
  return {
    read,
    watch: (update) => {
      const push = (): void => update(read());
      const stops = [sync.on('status', push), sync.on('pending', push)];
      push();
      return () => stops.forEach((stop) => stop());
    },
    // Each report is a new status object (progress moves within 'bootstrapping').
    same: (a, b) => a.status === b.status && a.pendingWrites === b.pendingWrites,
  };
}
