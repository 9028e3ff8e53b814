// Opening the store of a new session (WebSocket handshake or HTTP request). Whatever keeps it from
// opening right now (every database under stores.maxOpenStores in use, a storage failure such as
// EMFILE, ENOSPC or EROFS, S3 down during a restore, shutdown) is STORAGE_UNAVAILABLE: non-fatal,
// so a client retries with backoff instead of stopping for good as it does on AUTH_FAILED. The
// client is never told server paths or bucket URLs; the log gets the detail and the connection id.
import { ProtocolError } from '@syncord/core';
import {
  InvalidDatabaseIdError,
  StoreLimitError,
  StoreManagerClosedError,
  type StoreContext,
  type StoreHandle,
} from '../stores/index.js';
import type { ServiceContext } from './context.js';
import { storageErrorCode } from './errors.js';

export const SHUTTING_DOWN_MESSAGE = 'Server shutting down; try again later';

/** STORAGE_UNAVAILABLE for shutdown, the store bound or a storage failure; a bad database id as is. */
export async function openSessionStore(
  ctx: ServiceContext,
  databaseId: string,
  storeCtx: StoreContext,
  connectionId: string,
): Promise<StoreHandle> {
  try {
    return await ctx.stores.acquire(databaseId, storeCtx);
  } catch (err) {
    if (err instanceof InvalidDatabaseIdError) throw err;
    if (err instanceof StoreManagerClosedError) {
      throw new ProtocolError('STORAGE_UNAVAILABLE', SHUTTING_DOWN_MESSAGE, { cause: err });
    }
    if (err instanceof StoreLimitError) {
      ctx.metrics.limitRejectionsTotal.inc({ limit: err.limit });
      ctx.log.warn(
        { databaseId, connectionId, maxOpenStores: err.maxOpenStores },
        'database open refused: at maxOpenStores',
      );
      throw new ProtocolError('STORAGE_UNAVAILABLE', err.message, { cause: err });
    }
    ctx.log.error({ err, databaseId, connectionId }, 'database open failed');
    const code = storageErrorCode(err);
    throw new ProtocolError(
      'STORAGE_UNAVAILABLE',
      `Database ${databaseId} cannot be opened right now (storage error${code ? ` ${code}` : ''}); try again later`,
      { cause: err },
    );
  }
}
