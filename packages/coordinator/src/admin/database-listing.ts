// Which databases exist, without opening any: the open ones (the store manager knows them) and
// the files in dataDir, a SQLite file for a closed database and a marker for an evicted one.
// Names are mapped back to ids only for the default file naming; a resolveStoragePath hook's
// paths cannot be mapped back, so such databases are listed while open.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EVICTED_SUFFIX } from '../durability/index.js';
import { defaultStorageName, STORE_FILE_EXTENSION, unescapeDatabaseId } from '../stores/index.js';
import type { DatabaseState } from './types.js';

export interface ListedDatabase {
  readonly databaseId: string;
  readonly state: DatabaseState;
}

export interface DiskEntry {
  readonly state: 'closed' | 'evicted';
  readonly file: string;
}

/** The database of a default-named file, or undefined for any other name. */
function databaseOfName(stem: string): string | undefined {
  if (stem.includes('~')) return undefined; // shortened with a hash: not reversible
  const databaseId = unescapeDatabaseId(stem);
  return defaultStorageName(databaseId) === stem ? databaseId : undefined;
}

/** Databases with a file (or an eviction marker) directly in dataDir, by id. */
export function scanDataDir(dataDir: string): Map<string, DiskEntry> {
  const root = path.resolve(dataDir);
  const found = new Map<string, DiskEntry>();
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return found;
  }
  const evictedTail = STORE_FILE_EXTENSION + EVICTED_SUFFIX;
  for (const name of names) {
    const evicted = name.endsWith(evictedTail);
    if (!evicted && !name.endsWith(STORE_FILE_EXTENSION)) continue;
    const stem = name.slice(0, name.length - (evicted ? evictedTail : STORE_FILE_EXTENSION).length);
    const databaseId = databaseOfName(stem);
    if (databaseId === undefined) continue;
    const file = path.join(root, stem + STORE_FILE_EXTENSION);
    // A file beside a stale marker means the database is back on disk.
    if (evicted && found.has(databaseId)) continue;
    found.set(databaseId, { state: evicted ? 'evicted' : 'closed', file });
  }
  return found;
}

/** Open databases first in state, then what is on disk; every id once. */
export function mergeListing(openIds: readonly string[], disk: ReadonlyMap<string, DiskEntry>): ListedDatabase[] {
  const out = new Map<string, ListedDatabase>();
  for (const [databaseId, entry] of disk) out.set(databaseId, { databaseId, state: entry.state });
  for (const databaseId of openIds) out.set(databaseId, { databaseId, state: 'open' });
  return [...out.values()];
}

/** Size and modification time of a file, or undefined when it is gone. */
export function fileFacts(file: string): { bytes: number; modifiedAt: number } | undefined {
  try {
    const st = statSync(file);
    return { bytes: st.size, modifiedAt: st.mtimeMs };
  } catch {
    return undefined;
  }
}
