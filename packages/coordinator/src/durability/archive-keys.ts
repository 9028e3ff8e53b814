// Where a database's objects live in the bucket (PROTOCOL.md §10.2), so an archive written by the
// reference coordinator stays readable and ours stays readable by it:
//   <prefix><storagePath>/batches/<ts>_<uuid>.json     one applied batch
//   <prefix><storagePath>/snapshots/<ts>_<uuid>.json   gzip, the §5 chunk list
//   <prefix><storagePath>/images/<ts>_<uuid>.sqlite.gz our own: the SQLite file of an evicted database
// Images sit under their own folder so a reference coordinator, which takes the greatest key
// under snapshots/ as a JSON snapshot, never picks one up.
import type { StoreContext, StoreManagerHooks } from '../stores/index.js';

export type ArchiveKind = 'batches' | 'snapshots' | 'images';

const EXTENSION: Record<ArchiveKind, string> = { batches: '.json', snapshots: '.json', images: '.sqlite.gz' };

/** §10.2's default: `:` becomes `/`, anything outside `[A-Za-z0-9/_-]` becomes `_`. */
export function defaultS3StoragePath(databaseId: string): string {
  return databaseId.replace(/:/g, '/').replace(/[^A-Za-z0-9/_-]/g, '_');
}

/**
 * The storage path of a database in the bucket: the resolveStoragePath hook's answer (PROTOCOL.md
 * §6.7: "also used for S3 keys") or the §10.2 default. Restore runs without a client, so the hook
 * is called without a context: with S3 on it must not depend on one.
 */
export function s3StoragePath(databaseId: string, hooks?: StoreManagerHooks, ctx?: StoreContext): string {
  const chosen = hooks?.resolveStoragePath
    ? hooks.resolveStoragePath(databaseId, ctx)
    : defaultS3StoragePath(databaseId);
  if (typeof chosen !== 'string' || chosen.replace(/\/+/g, '') === '') {
    throw new Error(`resolveStoragePath gave no usable S3 path for ${JSON.stringify(databaseId)}`);
  }
  return chosen.replace(/^\/+|\/+$/g, '');
}

/** `2024-06-10T06-13-20-000Z`: an ISO time with `:` and `.` turned into `-` (sorts as time). */
export function keyTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

const KEY_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z_/;

/** The time in a key's file name, or undefined when the name is not `<ts>_…`. */
export function timeOfKey(key: string): number | undefined {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const m = KEY_TIME.exec(name);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** One archived object, as a listing names it. */
export interface ArchivedObject {
  readonly key: string;
  readonly kind: ArchiveKind;
  /** From the key's name. */
  readonly time: number;
}

/** The keys of one database. */
export class ArchiveLayout {
  /** `<prefix><storagePath>/` */
  readonly root: string;

  constructor(
    readonly databaseId: string,
    storagePath: string,
    keyPrefix: string,
  ) {
    this.root = `${keyPrefix}${storagePath}/`;
  }

  folder(kind: ArchiveKind): string {
    return `${this.root}${kind}/`;
  }

  /** Syncord's note of what retention deleted (outside the three folders: readers ignore it). */
  get retentionKey(): string {
    return `${this.root}retention.json`;
  }

  key(kind: ArchiveKind, time: number, id: string): string {
    return `${this.folder(kind)}${keyTimestamp(time)}_${id}${EXTENSION[kind]}`;
  }

  /** The object a listed key names, if it is one of ours (right folder, timestamped name). */
  parse(kind: ArchiveKind, key: string): ArchivedObject | undefined {
    if (!key.startsWith(this.folder(kind)) || !key.endsWith(EXTENSION[kind])) return undefined;
    if (key.slice(this.folder(kind).length).includes('/')) return undefined;
    const time = timeOfKey(key);
    return time === undefined ? undefined : { key, kind, time };
  }
}

/** The id part of an image key in a cluster: the log position it holds, then a unique tail. */
export function positionedImageId(position: number): string {
  return `p${position}-${globalThis.crypto.randomUUID()}`;
}

/** The log position an image key names (undefined for an image without one). */
export function positionOfImageKey(key: string): number | undefined {
  const m = /_p(\d+)-[^/]*$/.exec(key);
  return m ? Number(m[1]) : undefined;
}
