// Bases of a database whose arrival order lives in a shared log (a cluster). A protocol snapshot
// would lose the arrival positions and coverage records every node shares, so the holder of the
// archiving turn uploads an image instead: an online copy of its SQLite file, whose key names the
// log position it holds. A node with no usable local file takes the image with the highest
// position and merges the log from there on: the same file every other node holds at that
// position, so watermarks handed out anywhere stay valid and nothing is sealed.
import { existsSync, renameSync } from 'node:fs';
import type { Logger } from 'pino';
import { removeDatabaseFiles } from '../stores/index.js';
import { positionedImageId, positionOfImageKey, type ArchiveLayout, type ArchivedObject } from './archive-keys.js';
import { listArchived } from './archive-listing.js';
import { uploadImage } from './image.js';
import type { ObjectStore } from './object-store.js';
import { RestoreError, writeImage, type OpenFile } from './restore.js';
import type { SharedArchive } from './shared-archive.js';
import type { Replica } from '@syncord/core';

/** Where an online copy is written beside the database file before its upload. */
export const COPY_SUFFIX = '.copying-';

export interface PositionedImage extends ArchivedObject {
  readonly position: number;
}

/** The database's images that name a log position, lowest position first. */
export async function positionedImages(store: ObjectStore, layout: ArchiveLayout): Promise<PositionedImage[]> {
  const images = await listArchived(store, layout, 'images');
  return images
    .flatMap((image) => {
      const position = positionOfImageKey(image.key);
      return position === undefined ? [] : [{ ...image, position }];
    })
    .sort((a, b) => a.position - b.position);
}

export interface ImageInput {
  readonly store: ObjectStore;
  readonly layout: ArchiveLayout;
  readonly shared: SharedArchive;
  readonly openFile: OpenFile;
}

/** Copies the open `replica` (file `file`) into the bucket; returns the image and its position. */
export async function uploadSharedImage(
  input: ImageInput,
  replica: Replica,
  file: string,
  time: number,
): Promise<PositionedImage> {
  const temp = `${file}${COPY_SUFFIX}${globalThis.crypto.randomUUID()}`;
  try {
    await replica.backupTo(temp);
    // The copy says what it holds: the position it was taken at travels inside it.
    const copy = input.openFile(temp);
    const position = input.shared.positionOf(copy);
    const siteId = copy.siteId;
    copy.close();
    const key = input.layout.key('images', time, positionedImageId(position));
    await uploadImage(input.store, key, temp, input.layout.databaseId, siteId);
    return { key, kind: 'images', time, position };
  } finally {
    removeDatabaseFiles(temp);
  }
}

/**
 * Makes `file` usable before the database opens: a local copy older than what the log still holds
 * is removed, and a missing one is written from the newest positioned image (when there is one:
 * otherwise the log holds everything and the node merges it from the start). Returns the image
 * restored, if any.
 */
export async function prepareSharedFile(
  input: ImageInput & { readonly log: Logger },
  file: string,
): Promise<PositionedImage | undefined> {
  const { store, layout, shared } = input;
  const databaseId = layout.databaseId;
  const trimmed = await shared.trimmedThrough(databaseId);
  if (existsSync(file)) {
    if (trimmed === 0) return undefined;
    const local = input.openFile(file);
    const position = shared.positionOf(local);
    local.close();
    if (position >= trimmed) return undefined;
    input.log.warn(
      { databaseId, position, trimmedThrough: trimmed },
      'local copy is older than what the cluster log still holds: replacing it with the newest image',
    );
    removeDatabaseFiles(file);
  }
  const newest = (await positionedImages(store, layout)).at(-1);
  if (!newest || newest.position < trimmed) {
    if (trimmed === 0) return undefined;
    throw new RestoreError(
      `Database ${JSON.stringify(databaseId)} cannot be rebuilt: the cluster log was trimmed through ` +
        `${trimmed} but ${store.url(layout.folder('images'))} holds no image at or past it`,
    );
  }
  const temp = `${file}.restoring-${globalThis.crypto.randomUUID()}`;
  try {
    await writeImage(store, layout, newest, temp);
    renameSync(temp, file);
  } finally {
    removeDatabaseFiles(temp);
  }
  return newest;
}
