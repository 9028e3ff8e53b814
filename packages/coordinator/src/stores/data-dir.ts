// The data directory must take writes: the server refuses to start without it (exit 2 from the
// CLI), and readiness checks it again on every probe, so a disk gone read-only or full takes the
// instance out of rotation instead of failing every database open.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  constructor(
    readonly dataDir: string,
    /** The system error code (EROFS, EACCES, ENOSPC, ENOTDIR, …) when there is one. */
    readonly code: string | undefined,
    cause: unknown,
  ) {
    super(`data directory ${dataDir} is not writable: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

/**
 * Creates `dataDir` when missing, then writes and removes a small file in it (permission bits do not
 * stop root, so only a real write tells). Throws DataDirError when any step fails.
 */
export function checkDataDir(dataDir: string): void {
  const dir = path.resolve(dataDir);
  // A leading dot never starts an escaped database file name, so this can never be a database.
  const probe = path.join(dir, `.syncord-write-check-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, 'ok');
    rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new DataDirError(dir, typeof code === 'string' ? code : undefined, err);
  }
}
