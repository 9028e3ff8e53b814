// What the bucket holds for one database, from paginated listings: timestamped batches and the
// bases (snapshots and images) a restore starts from.
import type { ArchiveKind, ArchiveLayout, ArchivedObject } from './archive-keys.js';
import type { ObjectStore } from './object-store.js';

/**
 * Batches this much older than the base are replayed too. A batch's time is taken inside its
 * apply and a snapshot's when its read opens, so a later batch never sorts before the snapshot
 * unless the clock stepped back; replaying a covered batch changes nothing (merges are idempotent).
 */
export const REPLAY_MARGIN_MS = 60_000;

/** Every timestamped object of one kind, oldest first (listing every page). */
export async function listArchived(
  store: ObjectStore,
  layout: ArchiveLayout,
  kind: ArchiveKind,
): Promise<ArchivedObject[]> {
  const out: ArchivedObject[] = [];
  for await (const key of store.list(layout.folder(kind))) {
    const parsed = layout.parse(kind, key);
    if (parsed) out.push(parsed);
  }
  return out.sort((a, b) => a.time - b.time || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The bases (snapshots and images) oldest first; at equal times an image sorts last (preferred). */
export async function listBases(store: ObjectStore, layout: ArchiveLayout): Promise<ArchivedObject[]> {
  const [snapshots, images] = await Promise.all([
    listArchived(store, layout, 'snapshots'),
    listArchived(store, layout, 'images'),
  ]);
  return [...snapshots, ...images].sort(
    (a, b) => a.time - b.time || (a.kind === b.kind ? 0 : a.kind === 'images' ? 1 : -1),
  );
}
