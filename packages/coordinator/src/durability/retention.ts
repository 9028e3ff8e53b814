// Keeps the newest N bases (snapshots and images) of a database and deletes older ones, with the
// batches that only an older base could use (older than the oldest kept base, less the replay
// margin). The kept range is the point-in-time restore window.
import type { ArchiveLayout } from './archive-keys.js';
import type { ObjectStore } from './object-store.js';
import { listArchived, listBases, REPLAY_MARGIN_MS } from './restore.js';

export interface PruneReport {
  readonly bases: number;
  readonly batches: number;
}

export async function pruneArchive(store: ObjectStore, layout: ArchiveLayout, keep: number): Promise<PruneReport> {
  const bases = await listBases(store, layout);
  if (bases.length <= keep) return { bases: 0, batches: 0 };
  const doomed = bases.slice(0, bases.length - keep);
  const oldestKept = bases[bases.length - keep]!;
  const horizon = oldestKept.time - REPLAY_MARGIN_MS;
  const batches = (await listArchived(store, layout, 'batches')).filter((b) => b.time < horizon);
  // Batches first: a crash part-way leaves extra objects, never a base without its batches.
  for (const b of batches) await store.delete(b.key);
  for (const b of doomed) await store.delete(b.key);
  return { bases: doomed.length, batches: batches.length };
}
