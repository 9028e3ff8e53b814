// S3 stops in the middle of a stream of applies: every apply is still acknowledged at once, the
// batches wait in the database's outbox (the depth gauge shows them), and when S3 is back the
// outbox drains with nothing missing; and the snapshot schedule leaves a closing database closed.
import { encodeSiteId } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Gauge } from 'prom-client';
import { expect, it } from 'vitest';
import { newSiteId, wire, writeRow } from './support/change-sets.js';
import { metricValue } from './support/metric-value.js';
import { getObject, listKeys, s3Settings, until, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';
import { startTestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let s3: S3TestServer;
let client: S3Client;
useS3Server((server, c) => {
  s3 = server;
  client = c;
});

it('acknowledges every apply during an outage and uploads every batch once S3 is back', async () => {
  const server = await startTestServer({ config: { s3: s3Settings(s3, 'outage/') } });
  const socket = await TestClient.open(server.ws);
  try {
    const site = newSiteId();
    expect((await socket.handshake({ databaseId: 'outage', siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
    const depth = async () => {
      const gauge = server.server.service.metrics.registry.getSingleMetric('sync_s3_outbox_depth') as Gauge;
      return (await gauge.get()).values[0]?.value ?? -1;
    };
    let n = 0;
    const apply = async () => {
      n++;
      socket.send({
        type: 'apply_changes',
        requestId: `apply-${n}`,
        changes: [wire(writeRow(site, 't', [n], { v: n }, { counter: n }))],
      });
      expect(await socket.next('apply_result')).toMatchObject({ requestId: `apply-${n}`, applied: 1 });
    };
    for (let i = 0; i < 5; i++) await apply();
    expect(await server.server.service.durability!.flushAll(5000)).toBe(true);

    await s3.down();
    for (let i = 0; i < 20; i++) await apply(); // each answered while S3 is unreachable
    expect(await depth()).toBeGreaterThan(0);
    expect(await server.server.service.durability!.flushAll(300)).toBe(false);

    await s3.up();
    await until(async () => (await depth()) === 0, 'the outbox to drain');
    const keys = await listKeys(client, s3.bucket, 'outage/outage/batches/');
    expect(keys).toHaveLength(25);
    const rows = new Set<number>();
    for (const key of keys) {
      const body = JSON.parse((await getObject(client, s3.bucket, key)).body.toString('utf8')) as {
        changes: { changes: { pk: number[] }[] }[];
      };
      for (const cs of body.changes) for (const c of cs.changes) rows.add(c.pk[0]!);
    }
    expect([...rows].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  } finally {
    await socket.close();
    await server.stop();
  }
});

it('a scheduled snapshot never reopens a database whose store is closing', async () => {
  const opens: string[] = [];
  const server = await startTestServer({
    config: {
      // Due on every tick (every 50 ms) while S3 is down, and a close that waits 500 ms to flush.
      s3: { ...s3Settings(s3, 'closing/'), snapshotChanges: 1, snapshotIntervalMs: 100, flushTimeoutMs: 500 },
      stores: { idleCloseMs: 0, cleanupIntervalMs: 0 },
    },
    openReplica: (file, databaseId) => {
      opens.push(databaseId);
      return openSqliteReplica(file);
    },
  });
  const { service } = server.server;
  const socket = await TestClient.open(server.ws);
  try {
    const site = newSiteId();
    expect((await socket.handshake({ databaseId: 'closing', siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
    await s3.down();
    socket.send({ type: 'apply_changes', requestId: 'a', changes: [wire(writeRow(site, 't', [1], { v: 1 }))] });
    expect(await socket.next('apply_result')).toMatchObject({ applied: 1 });
    const failures = () => metricValue(service.durability!.metrics.snapshotFailuresTotal);
    await expect.poll(failures).toBeGreaterThan(0); // the schedule is trying
    await socket.close();
    await expect.poll(() => service.stores.refCount('closing')).toBe(0);

    await service.stores.sweep(); // closing: the flush waits out its timeout, ticks run meanwhile
    expect(service.stores.isOpen('closing')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200)); // more ticks
    expect(service.stores.isOpen('closing')).toBe(false);
    expect(opens).toEqual(['closing']);
  } finally {
    socket.socket.terminate();
    await s3.up();
    await server.stop();
  }
});
