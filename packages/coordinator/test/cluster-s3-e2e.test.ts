// S3 in a cluster when the node archiving a database dies: two `syncord` child processes over a
// real nats-server, a real S3 server (s3rver) that is down while writes are acknowledged. The
// holder of the archiving turn is SIGKILLed with every batch still in its outbox; the other node
// takes the turn once it lapses and uploads them all (none missing); the killed node, restarted,
// drops its own records of them instead of uploading them again (none twice).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newSiteId } from '@syncord/core';
import type { S3Client } from '@aws-sdk/client-s3';
import { wire, writeRow } from './support/change-sets.js';
import { cellsOf, eventually, joinNode, readAll, startCluster, type TestCluster } from './support/cluster-nodes.js';
import { startNatsServer } from './support/nats-server.js';
import { getObject, listKeys, s3Flags, useS3Server } from './support/s3-objects.js';
import type { S3TestServer } from './support/s3-server.js';

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let s3: S3TestServer;
let client: S3Client;
let cluster: TestCluster | undefined;
useS3Server((server, c) => {
  s3 = server;
  client = c;
});

beforeAll(async () => {
  nats = await startNatsServer();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await nats?.remove();
}, 60_000);

/** One series of a node's /metrics (0 when absent). */
async function scrape(http: string, name: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

it('passes the archiving turn on when its holder is killed, and every batch reaches S3 once', async () => {
  cluster = await startCluster(nats.url, 2, 1, [...s3Flags(s3, 'failover/'), '--cluster-archive-turn-ms', '1500']);
  const [one, two] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]];
  // node1 opens the database first and takes its turn; node2 has it open too.
  const site = newSiteId();
  const writer = await joinNode(one, 'pay', site);
  expect(await eventually(async () => (await scrape(one.server.http, 'sync_s3_archiving_turns')) === 1)).toBe(true);
  const watcher = await joinNode(two, 'pay');

  await s3.down();
  for (let i = 1; i <= 10; i++) {
    writer.client.send({
      type: 'apply_changes',
      requestId: `w${i}`,
      changes: [wire(writeRow(site, 'payments', [i], { amount: i * 100 }, { counter: i }))],
    });
    expect(await writer.client.next('apply_result')).toMatchObject({ requestId: `w${i}`, applied: 1 });
  }
  // Acknowledged means in the log: node2 holds all ten, while no batch could reach S3.
  expect(cellsOf(await readAll(two, 'pay')).size).toBe(10);
  await cluster.restart(one, 'kill');
  await s3.up();
  expect(await listKeys(client, s3.bucket, 'failover/pay/batches/')).toEqual([]);

  const prefix = 'failover/pay/batches/';
  expect(await eventually(async () => (await listKeys(client, s3.bucket, prefix)).length >= 10)).toBe(true);
  expect(await scrape(two.server.http, 'sync_s3_archiving_turns')).toBe(1);
  expect(await scrape(two.server.http, 'sync_s3_batch_uploads_total')).toBe(10);

  // node1 comes back with its ten records: the turn is node2's, so it drops them.
  const back = await joinNode(one, 'pay');
  expect(await eventually(async () => (await scrape(one.server.http, 'sync_s3_outbox_depth')) === 0)).toBe(true);
  expect(await scrape(one.server.http, 'sync_s3_batch_uploads_total')).toBe(0);
  const keys = await listKeys(client, s3.bucket, prefix);
  expect(keys).toHaveLength(10);
  const amounts = await Promise.all(
    keys.map(async (key) => {
      const body = JSON.parse((await getObject(client, s3.bucket, key)).body.toString('utf8'));
      return body.changes[0].changes[0].value as number;
    }),
  );
  expect(amounts.sort((a, b) => a - b)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  await Promise.all([writer.client.close(), watcher.client.close(), back.client.close()]);
}, 120_000);
