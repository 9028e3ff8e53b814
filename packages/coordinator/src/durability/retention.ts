// Keeps the newest N bases (snapshots and images) of a database and deletes older ones, with the
// batches that only an older base could use (older than the oldest kept base, less the replay
// margin). The kept range is the point-in-time restore window.
import type { ArchiveLayout } from './archive-keys.js';
import type { ObjectStore } from './object-store.js';
import { listArchived, listBases, REPLAY_MARGIN_MS } from './archive-listing.js';

export interface PruneReport {
  readonly bases: number;
  readonly batches: number;
}

/** The earliest time retention still lets a database be restored to (undefined: nothing pruned). */
export async function restorableFrom(store: ObjectStore, layout: ArchiveLayout): Promise<number | undefined> {
  const text = await store.getTextIfExists(layout.retentionKey);
  if (text === undefined) return undefined;
  const time = Date.parse(String((JSON.parse(text) as { restorableFrom?: unknown }).restorableFrom));
  return Number.isNaN(time) ? undefined : time;
}

export async function pruneArchive(store: ObjectStore, layout: ArchiveLayout, keep: number): Promise<PruneReport> {
  const bases = await listBases(store, layout);
  if (bases.length <= keep) return { bases: 0, batches: 0 };
  const doomed = bases.slice(0, bases.length - keep);
  const oldestKept = bases[bases.length - keep]!;
  const horizon = oldestKept.time - REPLAY_MARGIN_MS;
  const batches = (await listArchived(store, layout, 'batches')).filter((b) => b.time < horizon);
  // The note first, then batches, then bases: a crash part-way leaves extra objects, never a
  // point in time that restores silently without the batches it needs.
  await store.put(
    layout.retentionKey,
    JSON.stringify({ databaseId: layout.databaseId, restorableFrom: new Date(oldestKept.time).toISOString() }),
    { contentType: 'application/json' },
  );
  for (const b of batches) await store.delete(b.key);
  for (const b of doomed) await store.delete(b.key);
  return { bases: doomed.length, batches: batches.length };
}
