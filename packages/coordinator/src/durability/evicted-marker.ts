// A database evicted from local disk leaves a small marker file where its SQLite file was, so the
// admin page lists it (with when it left and the image that holds it) without asking S3, also
// after a restart. The marker goes when the database is opened (and restored) again.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

export const EVICTED_SUFFIX = '.evicted';

export interface EvictedMarker {
  readonly databaseId: string;
  /** ms time of the eviction. */
  readonly evictedAt: number;
  /** Key of the image in the bucket. */
  readonly image: string;
}

export function markEvicted(file: string, marker: EvictedMarker): void {
  writeFileSync(file + EVICTED_SUFFIX, JSON.stringify(marker));
}

export function clearEvicted(file: string): void {
  rmSync(file + EVICTED_SUFFIX, { force: true });
}

/** The marker beside `file`, or undefined when there is none (or it is unreadable). */
export function readEvicted(file: string): EvictedMarker | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file + EVICTED_SUFFIX, 'utf8')) as Partial<EvictedMarker>;
    return typeof parsed.databaseId === 'string' && typeof parsed.evictedAt === 'number'
      ? { databaseId: parsed.databaseId, evictedAt: parsed.evictedAt, image: String(parsed.image ?? '') }
      : undefined;
  } catch {
    return undefined;
  }
}
