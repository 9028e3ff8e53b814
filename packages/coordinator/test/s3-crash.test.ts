// A coordinator process killed (SIGKILL) after acknowledging an apply but before uploading its
// batch (S3 was unreachable): the batch waits in the database's outbox on disk, and the restarted
// coordinator uploads it without any client coming back.
import { encodeSiteId } from '@syncord/core';
import type { S3Client } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { newSiteId, wire, writeRow } from './support/change-sets.js';
import { startChildServer } from './support/child-server.js';
import { getObject, listKeys, s3Flags, until, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';
import { TestClient } from './support/ws-client.js';

let s3: S3TestServer;
let client: S3Client;
useS3Server((server, c) => {
  s3 = server;
  client = c;
});

it('uploads after a restart the batch of an apply acknowledged just before a SIGKILL', async () => {
  const args = s3Flags(s3, 'crash/');
  const first = await startChildServer({ args });
  let second: Awaited<ReturnType<typeof startChildServer>> | undefined;
  try {
    const socket = await TestClient.open(first.ws);
    const site = newSiteId();
    // Opened while S3 is up: a database with no local file is first looked for in the bucket.
    expect((await socket.handshake({ databaseId: 'crash', siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
    await s3.down();
    const set = writeRow(site, 'notes', [7], { title: 'kept' });
    socket.send({ type: 'apply_changes', requestId: 'apply-1', changes: [wire(set)] });
    expect(await socket.next('apply_result')).toMatchObject({ applied: 1 });
    expect((await first.kill('SIGKILL')).signal).toBe('SIGKILL');
    await socket.closed;
    await s3.up();
    expect(await listKeys(client, s3.bucket, 'crash/')).toEqual([]);

    second = await startChildServer({ args, dataDir: first.dataDir });
    await until(
      async () => (await listKeys(client, s3.bucket, 'crash/crash/batches/')).length === 1,
      'the batch upload',
      20_000,
    );
    const [key] = await listKeys(client, s3.bucket, 'crash/crash/batches/');
    const body = JSON.parse((await getObject(client, s3.bucket, key!)).body.toString('utf8')) as { changes: unknown[] };
    expect(body.changes).toEqual([wire(set)]);
  } finally {
    await s3.up().catch(() => undefined);
    await first.kill();
    if (second) await second.stop();
    first.cleanup();
  }
});
