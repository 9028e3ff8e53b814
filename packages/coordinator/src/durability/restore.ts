// Rebuilds a database from the bucket: the newest base (a JSON snapshot or a SQLite image) at or
// before `at`, then every batch from that base's time on, in time order. Used when a database is
// opened with no local file (at = now) and by point-in-time restore. It writes a temporary file
// beside the target and renames it into place only when everything applied: a failed restore
// leaves nothing behind, and the next open tries again.
//
// The server site id survives: an image holds it, a snapshot header names it, a batch carries it
// in Syncord's `serverSiteId` extension. Only an image also keeps the watermark bookkeeping and
// arrival sequences, which is what lets clients that were in sync resume with a delta catch-up
// (eviction always leaves an image for that reason; after a snapshot restore clients get one
// catch-up of everything they cannot be shown to hold, then deltas again). Whatever the base, the
// restored replica is sealed (Replica.markRestored): watermarks handed out before the restore get
// no coverage record from a reply, and when the original had pruned tombstones (a snapshot records
// its pruned horizon; an image keeps its own) or may have (a snapshot that does not say), they
// can no longer delta-sync: those clients take a snapshot instead of keeping deleted rows.
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PrunedHorizon, Replica, SiteId, SnapshotChunk } from '@syncord/core';
import type { Logger } from 'pino';
import { removeDatabaseFiles } from '../stores/index.js';
import type { ArchiveLayout, ArchivedObject } from './archive-keys.js';
import { listArchived, listBases, REPLAY_MARGIN_MS } from './archive-listing.js';
import { decodeBatch, headerSafe } from './batch-record.js';
import type { ObjectStore } from './object-store.js';
import { restorableFrom } from './retention.js';
import { decompressed, readSnapshot, type SnapshotEnvelope } from './snapshot-archive.js';

export type OpenFile = (file: string, siteId?: SiteId) => Replica;

export interface RestoreInput {
  readonly store: ObjectStore;
  readonly layout: ArchiveLayout;
  /** The database file to create; must not exist. */
  readonly targetFile: string;
  readonly openFile: OpenFile;
  /** Point in time (ms, inclusive); now when absent. */
  readonly at?: number;
  readonly log?: Logger;
}

export interface RestoreReport {
  readonly file: string;
  readonly base?: ArchivedObject;
  readonly batches: number;
  readonly siteId: SiteId;
  /** Cells and tombstones read from the base (0 for an image). */
  readonly baseEntries: number;
}

export class RestoreError extends Error {
  override readonly name = 'RestoreError';
}

async function* prepend<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Writes an image object (a gzipped SQLite file) out as `file`, which must not exist. */
export async function writeImage(
  store: ObjectStore,
  layout: ArchiveLayout,
  image: ArchivedObject,
  file: string,
  fetched?: Awaited<ReturnType<ObjectStore['get']>>,
): Promise<void> {
  const { body, metadata } = fetched ?? (await store.get(image.key));
  const owner = metadata['x-database-id'];
  if (owner !== undefined && owner !== headerSafe(layout.databaseId)) {
    body.destroy();
    throw new RestoreError(
      `${store.url(image.key)} is an image of database ${JSON.stringify(owner)}, not ${JSON.stringify(layout.databaseId)}`,
    );
  }
  await pipeline(Readable.from(decompressed(body)), createWriteStream(file, { flags: 'wx' }));
}

/** Restores into `file`; returns the open replica (the caller closes it). */
async function restoreBase(
  input: RestoreInput,
  base: ArchivedObject | undefined,
  file: string,
  firstBatchSite?: SiteId,
): Promise<{ replica: Replica; entries: number; pruned: PrunedHorizon }> {
  const { store, layout, openFile } = input;
  // Without a base every batch is replayed, deletes included; an image keeps its own pruned mark.
  if (!base) return { replica: openFile(file, firstBatchSite), entries: 0, pruned: 'none' };
  const where = store.url(base.key);
  const { body, metadata } = await store.get(base.key);
  if (base.kind === 'images') {
    await writeImage(store, layout, base, file, { body, metadata });
    return { replica: openFile(file), entries: 0, pruned: 'none' };
  }
  let envelope: SnapshotEnvelope | undefined;
  const chunks = readSnapshot(body, where, (e) => (envelope = e));
  const first = await chunks.next();
  if (envelope && envelope.databaseId !== layout.databaseId) {
    await chunks.return(undefined);
    throw new RestoreError(
      `${where} is a snapshot of database ${JSON.stringify(envelope.databaseId)}, not ${JSON.stringify(layout.databaseId)}`,
    );
  }
  if (first.done || first.value.type !== 'header') {
    await chunks.return(undefined);
    throw new RestoreError(`${where} does not start with a snapshot header`);
  }
  const replica = openFile(file, first.value.siteId);
  let entries = 0;
  const counted = async function* (): AsyncGenerator<SnapshotChunk> {
    for await (const chunk of prepend(first.value, chunks)) {
      if (chunk.type === 'column-versions' || chunk.type === 'tombstone') entries += chunk.entries.length;
      yield chunk;
    }
  };
  try {
    await replica.applySnapshot(counted());
  } catch (err) {
    replica.close();
    throw err;
  }
  return { replica, entries, pruned: envelope?.prunedHorizon ?? 'unknown' };
}

/**
 * Restores the database into `targetFile`. Resolves undefined when the bucket holds nothing for
 * it (a new database); rejects with a RestoreError naming the object that failed.
 */
export async function restoreDatabase(input: RestoreInput): Promise<RestoreReport | undefined> {
  const { store, layout, targetFile } = input;
  const at = input.at ?? Number.POSITIVE_INFINITY;
  const temp = `${targetFile}.restoring-${globalThis.crypto.randomUUID()}`;
  let replica: Replica | undefined;
  let step = `listing ${store.url(layout.root)}`;
  try {
    const [bases, allBatches] = await Promise.all([listBases(store, layout), listArchived(store, layout, 'batches')]);
    const base = bases.filter((b) => b.time <= at).at(-1);
    if (!base && Number.isFinite(at)) {
      // Without a base the batches must all be there; retention may have deleted the early ones.
      const from = await restorableFrom(store, layout);
      if (from !== undefined && at < from) {
        throw new RestoreError(
          `Database ${JSON.stringify(layout.databaseId)} cannot be restored to ${new Date(at).toISOString()}: ` +
            `retention keeps it restorable from ${new Date(from).toISOString()} on`,
        );
      }
    }
    const from = base ? base.time - REPLAY_MARGIN_MS : Number.NEGATIVE_INFINITY;
    const batches = allBatches.filter((b) => b.time >= from && b.time <= at);
    if (!base && batches.length === 0) return undefined;

    const decoded = batches.map((b) => ({ object: b, text: undefined as string | undefined }));
    let firstSite: SiteId | undefined;
    if (!base && decoded[0]) {
      step = `reading ${store.url(decoded[0].object.key)}`;
      decoded[0].text = await store.getText(decoded[0].object.key);
      firstSite = decodeBatch(decoded[0].text, store.url(decoded[0].object.key)).serverSiteId;
    }
    if (base) step = `restoring ${store.url(base.key)}`;
    const restored = await restoreBase(input, base, temp, firstSite);
    replica = restored.replica;
    let replayed = 0;
    for (const batch of decoded) {
      const where = store.url(batch.object.key);
      step = `replaying ${where}`;
      const record = decodeBatch(batch.text ?? (await store.getText(batch.object.key)), where);
      if (record.databaseId !== layout.databaseId) {
        input.log?.warn(
          { key: batch.object.key, databaseId: layout.databaseId, owner: record.databaseId },
          'skipping a batch of another database sharing the storage path',
        );
        continue;
      }
      replica.applyChanges(record.changeSets);
      replayed++;
    }
    replica.markRestored(restored.pruned);
    const siteId = replica.siteId;
    replica.close();
    replica = undefined;
    step = `moving ${temp} to ${targetFile}`;
    if (existsSync(targetFile)) throw new RestoreError(`${targetFile} appeared while restoring`);
    for (const suffix of ['-wal', '-shm', '-journal']) rmSync(targetFile + suffix, { force: true });
    renameSync(temp, targetFile);
    removeDatabaseFiles(temp);
    return { file: targetFile, ...(base ? { base } : {}), batches: replayed, siteId, baseEntries: restored.entries };
  } catch (err) {
    try {
      replica?.close();
    } catch {
      // already closed
    }
    removeDatabaseFiles(temp);
    if (err instanceof RestoreError) throw err;
    throw new RestoreError(
      `Restore of database ${JSON.stringify(layout.databaseId)} failed while ${step}: ${(err as Error).message ?? String(err)}`,
      { cause: err },
    );
  }
}
