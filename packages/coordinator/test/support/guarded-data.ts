// The databases a fuzz test must leave untouched: seeded with known data, read back over every
// path (WebSocket get_changes and snapshot, HTTP GET and NDJSON) to compare before and after, and a
// normal client's round trip to show the server still works.
import { encodeSiteId, newSiteId, transactionIdOf, type ChangeSet, type HLC } from '@syncord/core';
import { expect } from 'vitest';
import { BASE_WALL, deleteRow, wire, writeRow } from './change-sets.js';
import { TestClient, type ServerJson } from './ws-client.js';

export interface Endpoint {
  readonly ws: string;
  readonly http: string;
}

/** A socket whose errors do not throw: a refused frame may reset it, and its close is what is checked. */
export async function openSocket(ep: Endpoint): Promise<TestClient> {
  const c = await TestClient.open(ep.ws);
  c.socket.on('error', () => {});
  return c;
}

export async function join(ep: Endpoint, databaseId: string, siteId = encodeSiteId(newSiteId())): Promise<TestClient> {
  const c = await openSocket(ep);
  expect(await c.handshake({ databaseId, siteId })).toMatchObject({ type: 'handshake_ack' });
  return c;
}

/** Known data in each database: varied values, a delete (tombstone), a schema migration. */
export async function seed(ep: Endpoint, databases: readonly string[]): Promise<void> {
  const site = newSiteId();
  const hlc: HLC = { wallTime: BASE_WALL, counter: 0, siteId: site, opSeq: 0 };
  const ddl = 'create table notes (id, title)';
  const migration: ChangeSet = {
    siteId: site,
    transactionId: transactionIdOf(hlc),
    hlc,
    changes: [],
    schemaMigrations: [{ type: 'create_table', schema: 'main', table: 'notes', ddl, hlc, schemaVersion: 1 }],
  };
  const sets = [
    migration,
    writeRow(site, 'notes', [1], { title: 'one', n: 2n ** 70n, blob: new Uint8Array([0, 255]) }, { counter: 1 }),
    writeRow(site, 'notes', [2], { title: null, f: 0.25, b: true }, { counter: 2 }),
    writeRow(site, 'tags', ['x', 3], { label: 'gone' }, { counter: 3 }),
    deleteRow(site, 'tags', ['x', 3], { counter: 4 }),
  ];
  for (const db of databases) {
    const c = await join(ep, db, encodeSiteId(site));
    c.send({ type: 'apply_changes', requestId: 'seed', changes: sets.map(wire) });
    expect(await c.next('apply_result')).toMatchObject({ requestId: 'seed' });
    await c.close();
  }
}

const withoutSnapshotId = (chunk: Record<string, unknown>) => ({ ...chunk, snapshotId: undefined });

/** Everything `reader` can see of the databases, over every read path (snapshot ids are fresh each time). */
export async function dump(ep: Endpoint, databases: readonly string[], reader: string): Promise<unknown> {
  const out: Record<string, unknown> = {};
  const headers = { 'x-site-id': reader };
  for (const db of databases) {
    const c = await join(ep, db, reader);
    c.send({ type: 'get_changes' });
    const changes = (await c.next('changes')).changeSets;
    c.send({ type: 'get_snapshot' });
    const chunks: unknown[] = [];
    for (let m = await c.next(); m.type !== 'snapshot_complete'; m = await c.next()) {
      chunks.push(withoutSnapshotId((m as ServerJson & { chunk: Record<string, unknown> }).chunk));
    }
    await c.close();
    const http = await (await fetch(`${ep.http}/${db}/changes`, { headers })).json();
    const ndjson = await (await fetch(`${ep.http}/${db}/snapshot`, { headers })).text();
    const lines = ndjson
      .trim()
      .split('\n')
      .map((l) => withoutSnapshotId(JSON.parse(l) as Record<string, unknown>));
    out[db] = { changes, chunks, http, lines };
  }
  return out;
}

/** A normal client still works on a fresh database: apply, broadcast, catch-up, HTTP POST and GET. */
export async function serveNormalClient(ep: Endpoint, db: string): Promise<void> {
  const site = newSiteId();
  const a = await join(ep, db, encodeSiteId(site));
  const b = await join(ep, db);
  const cs = wire(writeRow(site, 'notes', [1], { title: 'after the fuzz' }));
  a.send({ type: 'apply_changes', requestId: 'apply-1', changes: [cs] });
  expect(await a.next()).toMatchObject({ type: 'apply_result', requestId: 'apply-1', applied: 1 });
  expect(await b.next()).toEqual({ type: 'push_changes', changeSets: [cs] });
  b.send({ type: 'get_changes' });
  expect(await b.next()).toEqual({ type: 'changes', changeSets: [cs], more: false });
  const posted = wire(writeRow(newSiteId(), 'notes', [2], { title: 'over HTTP' }, { counter: 1 }));
  const res = await fetch(`${ep.http}/${db}/changes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-site-id': encodeSiteId(newSiteId()) },
    body: JSON.stringify({ changes: [posted] }),
  });
  expect(await res.json()).toMatchObject({ ok: true, data: { applied: 1 } });
  const read = await fetch(`${ep.http}/${db}/changes`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });
  expect(((await read.json()) as { data: { changes: unknown[] } }).data.changes).toEqual([cs, posted]);
  await Promise.all([a.close(), b.close()]);
}
