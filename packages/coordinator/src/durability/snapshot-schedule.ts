// When a database gets a new snapshot: once `snapshotChanges` facts arrived since its last one, or
// once `snapshotIntervalMs` passed with any arrival at all. What the last snapshot covered (time and
// arrival sequence) is kept in the database itself, so a restart neither repeats nor forgets it.
import type { Replica } from '@syncord/core';
import type { ArchiveLayout } from './archive-keys.js';
import type { ObjectStore } from './object-store.js';
import { uploadSnapshot, type SnapshotUploadReport } from './snapshot-archive.js';

const STATE_KEY = 'syncord.s3.lastSnapshot';

export interface SnapshotMark {
  /** When the snapshot's read was taken (ms). */
  readonly at: number;
  /** The arrival sequence it covered. */
  readonly seq: number;
}

export function readMark(replica: Replica): SnapshotMark {
  const text = replica.getLocal(STATE_KEY);
  if (text === undefined) return { at: 0, seq: 0 };
  try {
    const parsed = JSON.parse(text) as Partial<SnapshotMark>;
    return { at: Number(parsed.at) || 0, seq: Number(parsed.seq) || 0 };
  } catch {
    return { at: 0, seq: 0 };
  }
}

export function writeMark(replica: Replica, mark: SnapshotMark): void {
  replica.setLocal(STATE_KEY, JSON.stringify(mark));
}

export interface ScheduleSettings {
  readonly snapshotIntervalMs: number;
  readonly snapshotChanges: number;
}

/** Due when `arrived` facts came since the snapshot at `mark`, or any did and its interval passed. */
export function snapshotDue(mark: SnapshotMark, arrived: number, now: number, settings: ScheduleSettings): boolean {
  if (arrived <= 0) return false;
  return arrived >= settings.snapshotChanges || now - mark.at >= settings.snapshotIntervalMs;
}

/** Streams a snapshot of `replica` into the archive and records what it covers. */
export async function snapshotTo(
  store: ObjectStore,
  layout: ArchiveLayout,
  replica: Replica,
  now: () => number,
): Promise<{ mark: SnapshotMark; report: SnapshotUploadReport }> {
  // The sequence and the read are taken together: nothing runs between them (the engine opens
  // its read on the stream's first step, which uploadSnapshot takes before it awaits anything).
  const seq = replica.lastSeq;
  const at = now();
  const key = layout.key('snapshots', at, globalThis.crypto.randomUUID());
  const report = await uploadSnapshot(store, key, layout.databaseId, at, replica.snapshot(), () =>
    replica.prunedHorizon(),
  );
  const mark = { at, seq };
  writeMark(replica, mark);
  return { mark, report };
}
