// Checked resume (issue 4 item 5): a resume_snapshot checkpoint is honoured only when this
// database could have issued it and the catch-up from it still works; any other gets a fresh,
// complete snapshot (new snapshotId, nothing skipped), never a partial one. One test per reason.
import {
  decodeSnapshotChunk,
  encodeHLC,
  encodeSiteId,
  newSiteId,
  type SnapshotChunk,
  type SnapshotHeader,
} from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResumeRefusal } from '@syncord/coordinator';
import { deleteRow, wire, writeRow } from './support/change-sets.js';
import { metricValue } from './support/metric-value.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const HORIZON_MS = 60_000;
let now = Date.now();
let srv: TestServer;
let c: TestClient;
let header: SnapshotHeader;
const writer = newSiteId();
const TABLES = ['notes', 'v1.tags'];

beforeAll(async () => {
  srv = await startTestServer({
    config: { sync: { retentionHorizonMs: HORIZON_MS } },
    openReplica: (file) => openSqliteReplica(file, { now: () => now }),
  });
  c = await TestClient.open(srv.ws);
  await c.handshake({ databaseId: 'db', siteId: encodeSiteId(newSiteId()) });
  const changes = [
    wire(writeRow(writer, 'notes', [1], { title: 'a' }, { counter: 1 })),
    wire(writeRow(writer, 'v1.tags', [1], { label: 'b' }, { counter: 2 })),
  ];
  c.send({ type: 'apply_changes', changes });
  await c.next('apply_result');
  const full = await snapshot({ type: 'get_snapshot' });
  if (full[0]?.type !== 'header') throw new Error('no header');
  header = full[0];
});
afterAll(async () => {
  await c.close();
  await srv.stop();
});

async function snapshot(message: unknown): Promise<SnapshotChunk[]> {
  c.send(message);
  const chunks: SnapshotChunk[] = [];
  for (;;) {
    const m = await c.next();
    if (m.type === 'snapshot_complete') return chunks;
    if (m.type !== 'snapshot_chunk') throw new Error(`unexpected ${JSON.stringify(m)}`);
    chunks.push(decodeSnapshotChunk(m.chunk));
  }
}

function resume(patch: Record<string, unknown> = {}): Promise<SnapshotChunk[]> {
  return snapshot({
    type: 'resume_snapshot',
    checkpoint: {
      snapshotId: header.snapshotId,
      siteId: encodeSiteId(newSiteId()),
      hlc: encodeHLC(header.hlc),
      lastTableIndex: 0,
      lastEntryIndex: 0,
      completedTables: ['main.v1.tags'],
      entriesProcessed: 1,
      createdAt: now,
      ...patch,
    },
  });
}

const tablesOf = (chunks: SnapshotChunk[]) => chunks.flatMap((x) => (x.type === 'table-start' ? [x.table] : []));

function expectFresh(chunks: SnapshotChunk[]): void {
  const first = chunks[0];
  expect(first?.type).toBe('header');
  expect(first?.type === 'header' && first.snapshotId).not.toBe(header.snapshotId);
  expect(tablesOf(chunks).sort()).toEqual([...TABLES].sort());
  expect(chunks[chunks.length - 1]).toMatchObject({ type: 'footer', totalEntries: 2 });
}

const refusals = (reason: ResumeRefusal) => metricValue(srv.server.service.metrics.resumeRefusalsTotal, { reason });

describe('resume_snapshot', () => {
  it('honours a checkpoint this database issued: same snapshotId, completed tables skipped', async () => {
    const chunks = await resume();
    expect(chunks[0]).toMatchObject({ type: 'header', snapshotId: header.snapshotId });
    expect(tablesOf(chunks)).toEqual(['notes']);
    expect(chunks[chunks.length - 1]).toMatchObject({ type: 'footer', totalEntries: 2 });
  });

  const cases: [ResumeRefusal, () => Record<string, unknown>][] = [
    ['snapshot-id', () => ({ snapshotId: 'not-a-uuid' })],
    ['foreign-site', () => ({ hlc: encodeHLC({ ...header.hlc, siteId: newSiteId() }) })],
    ['future', () => ({ hlc: encodeHLC({ ...header.hlc, wallTime: header.hlc.wallTime + 1n }) })],
    ['unknown-table', () => ({ completedTables: ['main.v1.tags', 'main.nope'] })],
  ];
  it.each(cases)('answers a %s checkpoint with a fresh complete snapshot', async (reason, patch) => {
    expectFresh(await resume(patch()));
    expect(await refusals(reason)).toBe(1);
  });

  it('answers a checkpoint older than pruned history (too-old) with a fresh complete snapshot', async () => {
    c.send({
      type: 'apply_changes',
      changes: [wire(deleteRow(writer, 'gone', [1], { wall: BigInt(now), counter: 9 }))],
    });
    expect(await c.next('apply_result')).toMatchObject({ applied: 1 });
    now += HORIZON_MS + 1;
    expect(srv.server.service.runMaintenance()).toBe(1);
    const chunks = await resume();
    expectFresh(chunks.filter((x) => x.type !== 'tombstone'));
    expect(await refusals('too-old')).toBe(1);
  });
});
