// Every client message type, every error code and close code of PROTOCOL.md §3.4, the handshake
// order of §3.5 and requestId echo, over a real socket.
import { encodeHLC, encodeSiteId, newSiteId, type SiteId } from '@syncord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_WALL, wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

let srv: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  srv = await startTestServer({ config: { limits: { maxChangeSetsPerApply: 3, maxChangesPerApply: 5 } } });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await srv.stop();
});

async function client(): Promise<TestClient> {
  const c = await TestClient.open(srv.ws);
  clients.push(c);
  return c;
}

let dbCounter = 0;
const freshDb = () => `db-${++dbCounter}`;

async function session(
  databaseId: string,
  site: SiteId = newSiteId(),
): Promise<{ c: TestClient; site: SiteId; ack: ServerJson }> {
  const c = await client();
  const ack = await c.handshake({ databaseId, siteId: encodeSiteId(site) });
  expect(ack.type).toBe('handshake_ack');
  return { c, site, ack };
}

/** What another site can read from the database: the stored facts. */
async function stored(databaseId: string): Promise<unknown[]> {
  const { c } = await session(databaseId);
  c.send({ type: 'get_changes' });
  const reply = await c.next('changes');
  await c.close();
  return reply.changeSets as unknown[];
}

function expectError(msg: ServerJson, code: string, fatal: boolean): void {
  expect(msg).toMatchObject({ type: 'error', code, fatal });
  expect(typeof msg.message).toBe('string');
}

async function expectUsable(c: TestClient): Promise<void> {
  expect(await c.drain()).toEqual([]);
}

describe('WebSocket messages', () => {
  it('answers ping with pong, even before the handshake', async () => {
    const c = await client();
    c.send({ type: 'ping' });
    expect(await c.next()).toEqual({ type: 'pong' });
  });

  it('acks a handshake with the stable server site id, a fresh connection id and the database echo', async () => {
    const db = freshDb();
    const one = await session(db);
    const two = await session(db);
    const other = await session(freshDb());
    expect(one.ack).toMatchObject({ databaseId: db, protocolVersion: 1 });
    expect(one.ack.serverSiteId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(one.ack.connectionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(two.ack.serverSiteId).toBe(one.ack.serverSiteId);
    expect(two.ack.connectionId).not.toBe(one.ack.connectionId);
    expect(other.ack.serverSiteId).not.toBe(one.ack.serverSiteId);
  });

  it('always answers get_changes, with [] on an empty database and without the requester’s own facts', async () => {
    const db = freshDb();
    const a = await session(db);
    a.c.send({ type: 'get_changes' });
    expect(await a.c.next()).toEqual({ type: 'changes', changeSets: [], more: false });
    a.c.send({ type: 'apply_changes', requestId: 'apply-1', changes: [wire(writeRow(a.site, 't', [1], { v: 1 }))] });
    await a.c.next('apply_result');
    a.c.send({ type: 'get_changes', sinceHLC: '' });
    expect(await a.c.next()).toEqual({ type: 'changes', changeSets: [], more: false });
    const b = await session(db);
    b.c.send({ type: 'get_changes' });
    const reply = await b.c.next('changes');
    expect(reply.changeSets).toHaveLength(1);
    const last = (reply.changeSets as { hlc: string }[])[0]!.hlc;
    b.c.send({ type: 'get_changes', sinceHLC: last });
    expect(await b.c.next()).toEqual({ type: 'changes', changeSets: [], more: false });
  });

  it('echoes requestId exactly, string or number, and omits it when absent', async () => {
    const db = freshDb();
    const a = await session(db);
    const send = (requestId: unknown, counter: number) =>
      a.c.send({
        type: 'apply_changes',
        ...(requestId === undefined ? {} : { requestId }),
        changes: [wire(writeRow(a.site, 't', [counter], { v: counter }, { counter }))],
      });
    send('apply-7', 1);
    expect(await a.c.next()).toEqual({
      type: 'apply_result',
      requestId: 'apply-7',
      applied: 1,
      skipped: 0,
      conflicts: 0,
      transactions: 1,
    });
    send(42, 2);
    expect((await a.c.next('apply_result')).requestId).toBe(42);
    send('', 3);
    expect((await a.c.next('apply_result')).requestId).toBe('');
    send(undefined, 4);
    expect(await a.c.next('apply_result')).not.toHaveProperty('requestId');
  });

  it('streams get_snapshot and resume_snapshot, each ended by snapshot_complete', async () => {
    const db = freshDb();
    const a = await session(db);
    a.c.send({ type: 'apply_changes', changes: [wire(writeRow(a.site, 't', [1], { v: 1 }))] });
    await a.c.next('apply_result');
    const collect = async (): Promise<ServerJson[]> => {
      const chunks: ServerJson[] = [];
      for (;;) {
        const m = await a.c.next();
        if (m.type === 'snapshot_complete') return chunks;
        expect(m.type).toBe('snapshot_chunk');
        chunks.push(m.chunk as ServerJson);
      }
    };
    a.c.send({ type: 'get_snapshot' });
    const full = await collect();
    expect(full.map((c) => c.type)).toEqual(['header', 'table-start', 'column-versions', 'table-end', 'footer']);
    const header = full[0]!;
    a.c.send({
      type: 'resume_snapshot',
      checkpoint: {
        snapshotId: header.snapshotId,
        siteId: encodeSiteId(a.site),
        hlc: header.hlc,
        lastTableIndex: 0,
        lastEntryIndex: 1,
        completedTables: ['main.t'],
        entriesProcessed: 1,
        createdAt: Date.now(),
      },
    });
    const resumed = await collect();
    expect(resumed[0]).toMatchObject({ type: 'header', snapshotId: header.snapshotId, hlc: header.hlc });
    expect(resumed.map((c) => c.type)).toEqual(['header', 'footer']);
    expect(resumed[1]).toMatchObject({ totalEntries: 1 });
  });

  it('handles the messages of one connection strictly in arrival order', async () => {
    const a = await session(freshDb());
    const expected: string[] = [];
    for (let i = 1; i <= 12; i++) {
      a.c.send({
        type: 'apply_changes',
        requestId: `apply-${i}`,
        changes: [wire(writeRow(a.site, 't', [i], { v: 'x'.repeat(i * 50) }, { counter: i }))],
      });
      a.c.send({ type: 'ping' });
      expected.push(`apply-${i}`, 'pong');
    }
    const seen: string[] = [];
    for (let i = 0; i < expected.length; i++) {
      const m = await a.c.next();
      seen.push(m.type === 'apply_result' ? String(m.requestId) : m.type);
    }
    expect(seen).toEqual(expected);
  });
});

describe('error codes (§3.4)', () => {
  it('PROTOCOL_VERSION_MISMATCH is checked first, is fatal and closes with 4003', async () => {
    for (const version of [undefined, 2, '1']) {
      const c = await client();
      c.send({ type: 'handshake', siteId: encodeSiteId(newSiteId()), protocolVersion: version });
      expectError(await c.next(), 'PROTOCOL_VERSION_MISMATCH', true);
      expect(await c.closed).toEqual({ code: 4003, reason: 'Protocol version mismatch' });
    }
    // Even on a socket that already has a session, the version gate comes before ALREADY_AUTHENTICATED.
    const a = await session(freshDb());
    a.c.send({ type: 'handshake', databaseId: 'x', siteId: encodeSiteId(a.site), protocolVersion: 2 });
    expectError(await a.c.next(), 'PROTOCOL_VERSION_MISMATCH', true);
    expect((await a.c.closed).code).toBe(4003);
  });

  it('ALREADY_AUTHENTICATED is fatal but leaves the socket and its session usable', async () => {
    const db = freshDb();
    const a = await session(db);
    const again = await a.c.handshake({ databaseId: 'other', siteId: encodeSiteId(a.site) });
    expectError(again, 'ALREADY_AUTHENTICATED', true);
    a.c.send({ type: 'get_changes' });
    expect(await a.c.next()).toEqual({ type: 'changes', changeSets: [], more: false });
    expect(srv.server.service.stores.refCount(db)).toBe(1);
    expect(srv.server.service.stores.refCount('other')).toBe(0);
  });

  it('MISSING_DATABASE_ID is fatal and closes with 4002', async () => {
    for (const databaseId of [undefined, '', 0, null]) {
      const c = await client();
      expectError(await c.handshake({ databaseId, siteId: encodeSiteId(newSiteId()) }), 'MISSING_DATABASE_ID', true);
      expect(await c.closed).toEqual({ code: 4002, reason: 'Missing databaseId' });
    }
  });

  it('AUTH_FAILED (bad site id, bad database id) is fatal, closes with 4001 and registers nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ databaseId: 'ok-db', siteId: 'short' }, /siteId/],
      [{ databaseId: 'ok-db', siteId: 'bxwqnkt9TBqOPwARIjNEV+' }, /siteId/],
      [{ databaseId: 'ok-db' }, /Site ID required/],
      [{ databaseId: 'a b', siteId: encodeSiteId(newSiteId()) }, /Invalid database ID: "a b"/],
      [{ databaseId: 'x'.repeat(300), siteId: encodeSiteId(newSiteId()) }, /maxDatabaseIdLength/],
      [{ databaseId: { $ne: 1 }, siteId: encodeSiteId(newSiteId()) }, /Invalid database ID/],
    ];
    const before = srv.server.service.status().connectedClients;
    for (const [fields, message] of cases) {
      const c = await client();
      const reply = await c.handshake(fields);
      expectError(reply, 'AUTH_FAILED', true);
      expect(reply.message).toMatch(message);
      expect(await c.closed).toEqual({ code: 4001, reason: 'Authentication failed' });
    }
    expect(srv.server.service.status().connectedClients).toBe(before);
    expect(srv.server.service.stores.refCount('ok-db')).toBe(0);
  });

  it('NOT_AUTHENTICATED for every operation before a handshake, non-fatal', async () => {
    const c = await client();
    for (const message of [
      { type: 'get_changes' },
      { type: 'apply_changes', changes: [] },
      { type: 'get_snapshot' },
      { type: 'resume_snapshot', checkpoint: {} },
    ]) {
      c.send(message);
      expectError(await c.next(), 'NOT_AUTHENTICATED', false);
    }
    await expectUsable(c);
  });

  it('UNKNOWN_MESSAGE and MESSAGE_ERROR (bad JSON, no type, binary frame) are non-fatal', async () => {
    const c = await client();
    c.send({ type: 'request_changes' });
    expectError(await c.next(), 'UNKNOWN_MESSAGE', false);
    for (const text of ['{not json', '[1,2]', '"text"', '{"type":5}', '{}', 'null']) {
      c.send(text);
      expectError(await c.next(), 'MESSAGE_ERROR', false);
    }
    c.socket.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    expectError(await c.next(), 'MESSAGE_ERROR', false);
    await expectUsable(c);
  });

  it('GET_CHANGES_ERROR for a malformed sinceHLC, non-fatal', async () => {
    const a = await session(freshDb());
    for (const sinceHLC of ['abc', 42, 'A'.repeat(40).replace(/A$/, '!'), { x: 1 }]) {
      a.c.send({ type: 'get_changes', sinceHLC });
      expectError(await a.c.next(), 'GET_CHANGES_ERROR', false);
    }
    await expectUsable(a.c);
  });

  it('APPLY_CHANGES_ERROR for every malformed apply, non-fatal, storing nothing', async () => {
    const db = freshDb();
    const a = await session(db);
    const good = wire(writeRow(a.site, 't', [1], { v: 1 })) as Record<string, unknown>;
    const goodChange = (good.changes as Record<string, unknown>[])[0]!;
    const otherSite = encodeSiteId(newSiteId());
    const cases: unknown[] = [
      { changes: 5 },
      {},
      { changes: [good], requestId: { id: 1 } },
      { changes: [null] },
      { changes: [{ ...good, siteId: 'nope' }] },
      { changes: [{ ...good, siteId: otherSite }] },
      { changes: [{ ...good, hlc: 'short' }] },
      { changes: [{ ...good, changes: 'x' }] },
      { changes: [{ ...good, changes: [{ ...goodChange, type: 'insert' }] }] },
      { changes: [{ ...good, changes: [{ ...goodChange, pk: 1 }] }] },
      { changes: [{ ...good, changes: [{ ...goodChange, value: { __bin: '!!!' } }] }] },
      { changes: [{ ...good, changes: [{ ...goodChange, value: { __bigint: '1.5' } }] }] },
      { changes: [{ ...good, changes: [{ ...goodChange, table: 7 }] }] },
      // names a store cannot keep exactly (an unpaired surrogate) or no SQL can spell (NUL)
      { changes: [good, { ...good, changes: [{ ...goodChange, table: 't\uD800' }] }] },
      { changes: [good, { ...good, changes: [{ ...goodChange, column: 'v\0' }] }] },
      { changes: [{ ...good, changes: [{ ...goodChange, priorValue: 1 }] }] },
      { changes: [good, { ...good, schemaMigrations: [{ type: 'create_view' }] }] },
      // limits: 4 change sets > 3, then 6 changes > 5
      { changes: [1, 2, 3, 4].map((i) => wire(writeRow(a.site, 't', [i], { v: i }, { counter: i }))) },
      { changes: [wire(writeRow(a.site, 't', [9], { a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }))] },
      // 10 minutes ahead of the server clock: the drift gate
      { changes: [wire(writeRow(a.site, 't', [1], { v: 1 }, { wall: BigInt(Date.now() + 600_000) }))] },
    ];
    for (const body of cases) {
      a.c.send({ type: 'apply_changes', requestId: 'r', ...(body as object) });
      const reply = await a.c.next();
      expectError(reply, 'APPLY_CHANGES_ERROR', false);
    }
    await expectUsable(a.c);
    expect(await stored(db)).toEqual([]);
  });

  it('names the limit that refused an apply', async () => {
    const a = await session(freshDb());
    a.c.send({
      type: 'apply_changes',
      changes: [1, 2, 3, 4].map((i) => wire(writeRow(a.site, 't', [i], { v: i }, { counter: i }))),
    });
    expect((await a.c.next()).message).toMatch(/maxChangeSetsPerApply 3/);
  });

  it('SNAPSHOT_ERROR for a malformed resume checkpoint, non-fatal', async () => {
    const a = await session(freshDb());
    for (const checkpoint of [
      undefined,
      5,
      { snapshotId: 1 },
      { hlc: encodeHLC({ wallTime: BASE_WALL, counter: 0, siteId: a.site, opSeq: 0 }) },
    ]) {
      a.c.send({ type: 'resume_snapshot', checkpoint });
      expectError(await a.c.next(), 'SNAPSHOT_ERROR', false);
    }
    await expectUsable(a.c);
  });
});

describe('message size limit', () => {
  it('closes a socket that sends a frame over maxMessageBytes with 1009', async () => {
    const small = await startTestServer({ config: { limits: { maxMessageBytes: 1024 } } });
    try {
      const c = await TestClient.open(small.ws);
      c.send({ type: 'ping', pad: 'x'.repeat(2048) });
      expect((await c.closed).code).toBe(1009);
      const metrics = await (await fetch(`${small.http}/metrics`)).text();
      expect(metrics).toMatch(/sync_limit_rejections_total\{limit="maxMessageBytes"\} 1/);
    } finally {
      await small.stop();
    }
  });
});
