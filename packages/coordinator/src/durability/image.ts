// The SQLite file of a closed database, gzipped into the bucket before the file leaves local disk.
// Unlike a protocol snapshot it keeps everything: site id, arrival sequences, the watermark
// bookkeeping of gap-free catch-up, the (empty) outbox. Restoring it gives the same file back.
import { createReadStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import { encodeSiteId, type SiteId } from '@syncord/core';
import { headerSafe } from './batch-record.js';
import type { ObjectStore } from './object-store.js';

export async function uploadImage(
  store: ObjectStore,
  key: string,
  file: string,
  databaseId: string,
  siteId: SiteId,
): Promise<void> {
  const size = statSync(file).size;
  const body = new PassThrough();
  const uploading = store.upload(key, body, {
    contentType: 'application/gzip',
    contentEncoding: 'gzip',
    metadata: {
      'x-database-id': headerSafe(databaseId),
      'x-site-id': encodeSiteId(siteId),
      'x-file-bytes': String(size),
      'x-image-format': 'sqlite',
    },
  });
  // A failed upload stops reading the body; ending the file read too keeps nothing waiting.
  uploading.catch((err: unknown) => body.destroy(err instanceof Error ? err : new Error(String(err))));
  await Promise.all([pipeline(createReadStream(file), createGzip(), body), uploading]);
}
