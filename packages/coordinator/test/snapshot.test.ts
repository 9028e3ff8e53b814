// Snapshots over WebSocket and NDJSON (PROTOCOL.md §4, §5): bigint and blob values (the reference
// crashed on them), checked resume, and failures in the middle of a stream.
import {
  decodeSnapshotChunk,
  encodeHLC,
  encodeSiteId,
  newSiteId,
  type Replica,
  type SnapshotChunk,
  type SnapshotOptions,
} from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_WALL, deleteRow, wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

/** Databases whose name starts with `broken` fail after two chunks of any snapshot. */
function openWithFaults(file: string, databaseId: string): Replica {
  const replica = openSqliteReplica(file);
  if (!databaseId.startsWith('broken')) return replica;
  // The server streams the chunks as wire text.
  const original = replica.snapshotJson.bind(replica);
  replica.snapshotJson = (options?: SnapshotOptions) =>
    (async function* () {
      let sent = 0;
      for await (const chunk of original(options)) {
        if (++sent > 2) throw new Error('disk read failed');
        yield chunk;
      }
    })();
  return replica;
}

let srv: TestServer;
const writer = newSiteId();
const clients: TestClient[] = [];

async function join(databaseId: string): Promise<{ c: TestClient; ack: ServerJson }> {
  const c = await TestClient.open(srv.ws);
  clients.push(c);
  const ack = await c.handshake({ databaseId, siteId: encodeSiteId(newSiteId()) });
  expect(ack.type).toBe('handshake_ack');
  return { c, ack };
}

async function seed(databaseId: string, rows = 3): Promise<void> {
  const changes = [];
  for (let i = 1; i <= rows; i++) {
    changes.push(
      wire(
        writeRow(
          writer,
          'notes',
          [i],
          { id: i, big: 2n ** 70n + BigInt(i), blob: new Uint8Array([i, 0, 255]) },
          { counter: i },
        ),
      ),
    );
  }
  changes.push(wire(writeRow(writer, 'tags', [{ __bin: '3q2+7w==' }], { label: 'urgent' }, { counter: rows + 1 })));
  changes.push(wire(deleteRow(writer, 'tags', [7], { counter: rows + 2 })));
  const res = await fetch(`${srv.http}/${databaseId}/changes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-site-id': encodeSiteId(writer) },
    body: JSON.stringify({ changes }),
  });
  expect(res.status).toBe(200);
}

async function wsSnapshot(c: TestClient, message: unknown): Promise<SnapshotChunk[]> {
  c.send(message);
  const chunks: SnapshotChunk[] = [];
  for (;;) {
    const m = await c.next();
    if (m.type === 'snapshot_complete') return chunks;
    if (m.type !== 'snapshot_chunk') throw new Error(`unexpected ${JSON.stringify(m)}`);
    chunks.push(decodeSnapshotChunk(m.chunk));
  }
}

beforeAll(async () => {
  srv = await startTestServer({
    openReplica: openWithFaults,
    config: { limits: { sendHighWaterBytes: 2048 } },
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await srv.stop();
});

describe('snapshot over WebSocket', () => {
  it('streams every chunk type in order with bigint and blob values intact, then snapshot_complete', async () => {
    await seed('snap');
    const { c, ack } = await join('snap');
    const chunks = await wsSnapshot(c, { type: 'get_snapshot' });
    expect(chunks.map((x) => x.type)).toEqual([
      'header',
      'table-start',
      'column-versions',
      'table-end',
      'table-start',
      'column-versions',
      'table-end',
      'tombstone',
      'footer',
    ]);
    const header = chunks[0]!;
    expect(header.type === 'header' && encodeSiteId(header.siteId)).toBe(ack.serverSiteId);
    const entries = chunks.flatMap((x) => (x.type === 'column-versions' ? x.entries : []));
    expect(entries.find((e) => e.column === 'big' && e.pk[0] === 1)?.value).toBe(2n ** 70n + 1n);
    expect(entries.find((e) => e.column === 'blob' && e.pk[0] === 2)?.value).toEqual(new Uint8Array([2, 0, 255]));
    expect(entries.find((e) => e.column === 'label')?.pk[0]).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  });

  it('paces a large stream through a small send buffer without losing a chunk', async () => {
    await seed('big-snap', 1500);
    const { c } = await join('big-snap');
    const chunks = await wsSnapshot(c, { type: 'get_snapshot' });
    const footer = chunks[chunks.length - 1]!;
    const entries = chunks.flatMap((x) => (x.type === 'column-versions' ? x.entries : []));
    expect(entries).toHaveLength(1500 * 3 + 1);
    // Each table-start announces the entries its section streams; the footer counts column-version
    // entries only (the one tombstone is not an entry), as the reference does.
    expect(chunks.flatMap((x) => (x.type === 'table-start' ? [[x.table, x.estimatedEntries]] : []))).toEqual([
      ['notes', 1500 * 3],
      ['tags', 1],
    ]);
    expect(footer).toMatchObject({ type: 'footer', totalEntries: 1500 * 3 + 1 });
  });

  it('resumes a checkpoint it issued and answers a foreign or future one with a fresh full snapshot', async () => {
    await seed('resume');
    const { c } = await join('resume');
    const full = await wsSnapshot(c, { type: 'get_snapshot' });
    const header = full[0]!;
    if (header.type !== 'header') throw new Error('no header');
    const checkpoint = (hlc: string) => ({
      type: 'resume_snapshot',
      checkpoint: {
        snapshotId: header.snapshotId,
        siteId: encodeSiteId(newSiteId()),
        hlc,
        lastTableIndex: 0,
        lastEntryIndex: 0,
        completedTables: ['main.notes'],
        entriesProcessed: 9,
        createdAt: Date.now(),
      },
    });
    const resumed = await wsSnapshot(c, checkpoint(encodeHLC(header.hlc)));
    expect(resumed[0]).toMatchObject({ type: 'header', snapshotId: header.snapshotId });
    expect(resumed.filter((x) => x.type === 'table-start').map((x) => x.type === 'table-start' && x.table)).toEqual([
      'tags',
    ]);
    expect(resumed.some((x) => x.type === 'tombstone')).toBe(true);
    expect(resumed[resumed.length - 1]).toMatchObject({ type: 'footer', totalEntries: 9 + 1 });

    const foreign = encodeHLC({ ...header.hlc, siteId: newSiteId() });
    const future = encodeHLC({ ...header.hlc, wallTime: BigInt(Date.now() + 30_000) });
    for (const hlc of [foreign, future]) {
      const fresh = await wsSnapshot(c, checkpoint(hlc));
      expect(fresh[0]).toMatchObject({ type: 'header' });
      expect(fresh[0]?.type === 'header' && fresh[0].snapshotId).not.toBe(header.snapshotId);
      expect(fresh.filter((x) => x.type === 'table-start')).toHaveLength(2);
    }
  });

  it('ends a stream that fails midway with a non-fatal SNAPSHOT_ERROR and no snapshot_complete', async () => {
    await seed('broken-ws');
    const { c } = await join('broken-ws');
    c.send({ type: 'get_snapshot' });
    expect((await c.next('snapshot_chunk')).chunk).toMatchObject({ type: 'header' });
    expect((await c.next('snapshot_chunk')).chunk).toMatchObject({ type: 'table-start' });
    expect(await c.next()).toMatchObject({
      type: 'error',
      code: 'SNAPSHOT_ERROR',
      fatal: false,
      message: 'disk read failed',
    });
    expect(await c.drain()).toEqual([]);
    c.send({ type: 'get_changes' });
    expect((await c.next('changes')).changeSets).toHaveLength(5);
  });
});

describe('snapshot over HTTP (NDJSON)', () => {
  const get = (
    databaseId: string,
    headers: Record<string, string> = { 'x-site-id': encodeSiteId(newSiteId()) },
    signal?: AbortSignal,
  ) => fetch(`${srv.http}/${databaseId}/snapshot`, { headers, ...(signal ? { signal } : {}) });

  it('streams one bare chunk per line, bigint and blob included', async () => {
    await seed('ndjson');
    const res = await get('ndjson');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const lines = (await res.text()).split('\n');
    expect(lines.pop()).toBe('');
    const chunks = lines.map((line) => decodeSnapshotChunk(JSON.parse(line)));
    expect(chunks[0]?.type).toBe('header');
    expect(chunks[chunks.length - 1]?.type).toBe('footer');
    const entries = chunks.flatMap((x) => (x.type === 'column-versions' ? x.entries : []));
    expect(entries.find((e) => e.column === 'big' && e.pk[0] === 3)?.value).toBe(2n ** 70n + 3n);
    expect(entries.find((e) => e.column === 'blob' && e.pk[0] === 3)?.value).toEqual(new Uint8Array([3, 0, 255]));
  });

  it('ends a stream that fails after it began with an {"error":…} line, never a silent truncation', async () => {
    await seed('broken-http');
    const res = await get('broken-http');
    expect(res.status).toBe(200);
    const lines = (await res.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'header' });
    expect(JSON.parse(lines[2]!)).toEqual({ error: 'disk read failed' });
    expect(srv.server.service.stores.refCount('broken-http')).toBe(0);
  });

  it('releases the store when the client goes away mid-stream', async () => {
    await seed('ndjson-abort', 2000);
    const abort = new AbortController();
    const res = await get('ndjson-abort', { 'x-site-id': encodeSiteId(newSiteId()) }, abort.signal);
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await expect.poll(() => srv.server.service.stores.refCount('ndjson-abort')).toBe(0);
  });

  it('refuses before streaming with a real status and the envelope', async () => {
    const noSite = await get('ndjson', {});
    expect(noSite.status).toBe(401);
    expect(await noSite.json()).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    const badId = await get('bad%20id');
    expect(badId.status).toBe(400);
    expect(await badId.json()).toMatchObject({ ok: false, error: { code: 'INVALID_DATABASE_ID' } });
  });

  it('serves an empty database as a header and a footer', async () => {
    const res = await get('empty-db');
    const chunks = (await res.text())
      .trimEnd()
      .split('\n')
      .map((l) => decodeSnapshotChunk(JSON.parse(l)));
    expect(chunks.map((c) => c.type)).toEqual(['header', 'footer']);
    const header = chunks[0]!;
    expect(header.type === 'header' && header.hlc.wallTime).toBe(0n);
    expect(BASE_WALL).toBeGreaterThan(0n);
  });
});
