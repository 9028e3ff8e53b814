// Where a database's SQLite file lives. The mapping must be injective (two ids never share a
// file) and must never leave dataDir, whatever the id or the resolveStoragePath hook says.
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { StoreContext, StoreManagerHooks } from './types.js';

export const STORE_FILE_EXTENSION = '.sqlite';

/** Longest escaped name kept verbatim; longer ones are cut and suffixed with a hash. */
const MAX_PLAIN_NAME = 160;
/** Names Windows reserves whatever the extension; their first character is escaped. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/**
 * Reversible escape to a portable file name: `[a-z0-9-]` stay as they are, every other UTF-8 byte
 * becomes `_xx` (lowercase hex). Uppercase letters are escaped too, so ids differing only in case
 * stay distinct on case-insensitive file systems. `acme:Notes.v2` → `acme_3a_4eotes_2ev2`.
 */
export function escapeDatabaseId(id: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(id)) {
    const isPlain = (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2d;
    out += isPlain ? String.fromCharCode(byte) : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (WINDOWS_RESERVED.test(out)) out = `_${out.charCodeAt(0).toString(16)}${out.slice(1)}`;
  return out;
}

/** Inverse of escapeDatabaseId for names that were not shortened with a hash. */
export function unescapeDatabaseId(name: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '_') {
      bytes.push(parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * The default file name (without extension). `~` never appears in an escaped name, so a shortened
 * `<prefix>~<sha256>` can never equal a plain one; the prefix is cut on an escape boundary.
 */
export function defaultStorageName(id: string): string {
  const escaped = escapeDatabaseId(id);
  if (escaped.length <= MAX_PLAIN_NAME) return escaped;
  let cut = 96;
  const lastEscape = escaped.lastIndexOf('_', cut - 1);
  if (lastEscape > cut - 3) cut = lastEscape;
  const digest = createHash('sha256').update(id, 'utf8').digest('hex');
  return `${escaped.slice(0, cut)}~${digest}`;
}

export class StoragePathError extends Error {
  override readonly name = 'StoragePathError';
}

/**
 * The absolute SQLite file path for a database. A hook result is resolved against dataDir and
 * refused unless it stays strictly inside it.
 */
export function storageFilePath(
  dataDir: string,
  databaseId: string,
  hooks?: StoreManagerHooks,
  ctx?: StoreContext,
): string {
  const root = path.resolve(dataDir);
  const hook = hooks?.resolveStoragePath;
  if (!hook) return path.join(root, defaultStorageName(databaseId) + STORE_FILE_EXTENSION);
  const chosen = hook(databaseId, ctx);
  if (typeof chosen !== 'string' || chosen.length === 0 || chosen.includes('\0')) {
    throw new StoragePathError(`resolveStoragePath returned an unusable path for ${JSON.stringify(databaseId)}`);
  }
  const resolved = path.resolve(root, chosen);
  const relative = path.relative(root, resolved);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new StoragePathError(
      `resolveStoragePath for ${JSON.stringify(databaseId)} gave ${JSON.stringify(chosen)}, which is outside dataDir`,
    );
  }
  return resolved + STORE_FILE_EXTENSION;
}

/** Deletes a database file and the files SQLite keeps beside it (write-ahead log, shared memory, journal). */
export function removeDatabaseFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
}
