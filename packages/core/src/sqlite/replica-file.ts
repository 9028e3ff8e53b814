// A new replica file is written whole from a template instead of built statement by statement:
// the schema is created once per process in memory, and each new file is that image plus its own
// meta rows (format version, site id, clock, sequence), in WAL mode from its first byte. The file
// is written, synced and linked into place through the async fs API (the libuv thread pool), so
// neither the schema's dozen statements nor the syncs of a new file run on the event loop, and a
// crash leaves either no file or a complete one, never a half-made database.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { newSiteId, type SiteId } from '../clock/site-id.js';
import { initialMeta } from '../replica/engine.js';
import { SCHEMA_SQL } from './schema.js';

/** Header bytes 18 and 19 (file format write/read version): 2 is what journal_mode=WAL writes. */
const FORMAT_VERSION_OFFSETS = [18, 19] as const;
const WAL_FORMAT = 2;

let schemaImage: Buffer | undefined;

/** The schema alone, as a database image (built on first use, then shared). */
function schemaTemplate(): Buffer {
  if (!schemaImage) {
    const db = new Database(':memory:');
    try {
      db.exec(SCHEMA_SQL);
      schemaImage = db.serialize();
    } finally {
      db.close();
    }
  }
  return schemaImage;
}

/** The bytes of a new replica file: the schema, WAL mode and the first meta rows for `siteId`. */
export function newReplicaFileBytes(siteId: SiteId): Buffer {
  const db = new Database(schemaTemplate());
  try {
    const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      for (const [key, value] of initialMeta(siteId)) put.run(key, value);
    })();
    const bytes = db.serialize();
    // Set on the copy only: an in-memory database cannot be opened from an image marked WAL.
    for (const offset of FORMAT_VERSION_OFFSETS) bytes[offset] = WAL_FORMAT;
    return bytes;
  } finally {
    db.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Makes a new directory entry durable (POSIX; Windows cannot open a directory for syncing). */
async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Links `from` to `to` unless `to` exists (false then); renames where hard links are unsupported. */
async function placeNoClobber(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    await unlink(from);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
  }
  if (await exists(to)) return false;
  await rename(from, to);
  return true;
}

/**
 * Creates the replica file at `file` if there is none, without blocking the event loop on file
 * work: the complete image is written to a temporary name beside it, synced, then linked into
 * place and the directory synced. Resolves true when it created the file, false when one existed
 * (then nothing is changed). A crash at any point leaves no file or a complete, valid one (and
 * maybe a `<file>.creating-*` leftover that nothing reads).
 */
export async function createSqliteReplicaFile(file: string, options: { siteId?: SiteId } = {}): Promise<boolean> {
  if (await exists(file)) return false;
  const bytes = newReplicaFileBytes(options.siteId ?? newSiteId());
  const temp = `${file}.creating-${process.pid}-${randomBytes(4).toString('hex')}`;
  let placed: boolean;
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    placed = await placeNoClobber(temp, file);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  if (placed) await syncDirectory(path.dirname(file));
  return placed;
}
