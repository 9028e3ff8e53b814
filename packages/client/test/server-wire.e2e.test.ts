// The SDK against the wire behaviours our coordinator is gaining in another branch, played by a
// scripted server (see scripted-server.ts): a catch-up served as pages of one request, a
// request_changes for the server's own site (ignored: the pusher already sends our backlog), and
// errors that name the push they answer (a rate-limited push is re-sent after a backoff delay, on
// the same connection). A server that closes with 1013 after every handshake is backed off from.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareHLC, decodeApplyChanges, newSiteId, type ChangeSet, type HLC } from '@syncord/core';
import type { SyncStatus } from '@syncord/client';
import { Watermarks } from '../src/sync/watermarks.js';
import { Harness, NOTES } from './harness.js';
import { waitFor, within } from './helpers.js';
import { ScriptedServer, type ClientJson, type ScriptedConnection } from './scripted-server.js';

const NO_SNAPSHOT = { bootstrapOnEmpty: false } as const;

describe('the SDK against newer server messages', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness();
  });
  afterEach(() => h.dispose());

  async function scripted(onMessage: (conn: ScriptedConnection, msg: ClientJson) => void): Promise<ScriptedServer> {
    const server = new ScriptedServer(onMessage);
    await server.start();
    h.defer(() => server.stop());
    return server;
  }

  /** Acknowledges an apply_changes the way the coordinator does. */
  function ack(conn: ScriptedConnection, msg: ClientJson): void {
    const { requestId, changeSets } = decodeApplyChanges(msg);
    conn.send({
      type: 'apply_result',
      applied: changeSets.length,
      skipped: 0,
      conflicts: 0,
      transactions: changeSets.length,
      ...(requestId !== undefined ? { requestId } : {}),
    });
  }

  it('applies the pages of one catch-up in order and is caught up after the page without more', async () => {
    const source = h.memoryDb();
    source.declareTable('notes', NOTES);
    for (let id = 0; id < 25; id++) source.put('notes', { id, title: `t${id}` });
    const db = h.memoryDb();
    const all = source.replica.getChangesSince(db.siteId, undefined, { batchSize: 1000 });
    const pages = [all.slice(0, 10), all.slice(10, 20), all.slice(20)];
    const server = await scripted((conn, msg) => {
      if (msg.type !== 'get_changes') return;
      if (conn.count('get_changes') > 1) return conn.send({ type: 'changes', changeSets: [] });
      pages.forEach((changeSets, i) => conn.send({ type: 'changes', changeSets, ...(i < 2 ? { more: true } : {}) }));
    });
    const client = h.client(db, NO_SNAPSHOT);
    await client.connect(await server.start(), 'db');
    await within(client.whenSynced(), 5000, 'synced');
    expect(db.list('notes')).toHaveLength(25);
    expect(server.count('get_changes')).toBe(1); // nothing asked (or received) twice
    expect(new Watermarks(db.replica, server.siteId).received()).toEqual(maxHlc(pages[2]!));
    expect(h.errors).toEqual([]);
  });

  it("ignores request_changes for the server's own site id and answers one for another site", async () => {
    const server = await scripted((conn, msg) => {
      if (msg.type === 'get_changes') conn.send({ type: 'changes', changeSets: [] });
      else if (msg.type === 'apply_changes' && msg['requestId'] !== undefined) ack(conn, msg);
    });
    const db = h.memoryDb();
    db.declareTable('notes', NOTES);
    for (let id = 0; id < 3; id++) db.put('notes', { id, title: 'mine' });
    const client = h.client(db, NO_SNAPSHOT);
    await client.connect(await server.start(), 'db');
    await within(client.whenSynced(), 5000, 'synced');
    const conn = server.connections[0]!;
    expect(conn.count('apply_changes')).toBe(1);

    conn.send({ type: 'request_changes', siteId: server.siteId });
    conn.send({ type: 'request_changes', siteId: newSiteId() });
    await waitFor(() => conn.count('apply_changes') === 2, { what: 'the answer to the other site' });
    // Both requests were handled in order: had the first been answered, its reply came first.
    const answer = conn.received.filter((m) => m.type === 'apply_changes')[1]!;
    expect(answer['requestId']).toBeUndefined();
    expect(decodeApplyChanges(answer).changeSets).toHaveLength(4); // create_table + 3 rows
    expect(conn.received.filter((m) => m.type === 'apply_changes')).toHaveLength(2);
  });

  it('re-sends a push the rate limit dropped (its requestId echoed) after a backoff, on the same connection', async () => {
    const server = await scripted((conn, msg) => {
      if (msg.type === 'get_changes') return conn.send({ type: 'changes', changeSets: [] });
      if (msg.type !== 'apply_changes') return;
      // The first two pushes are dropped by the "rate limit"; then everything is accepted.
      if (conn.count('apply_changes') <= 2) {
        conn.sendRaw({
          type: 'error',
          code: 'RATE_LIMITED',
          message: 'dropped',
          fatal: false,
          requestId: msg['requestId'],
        });
      } else ack(conn, msg);
    });
    const db = h.memoryDb();
    db.declareTable('notes', NOTES);
    const client = h.client(db, { ...NO_SNAPSHOT, batchSize: 1 });
    await client.connect(await server.start(), 'db');
    db.put('notes', { id: 1, title: 'one' });
    db.put('notes', { id: 2, title: 'two' });
    await within(client.whenSynced(), 5000, 'synced');
    expect(server.connections).toHaveLength(1);
    const pushes = server.connections[0]!.received.filter((m) => m.type === 'apply_changes').map((m) =>
      decodeApplyChanges(m)
        .changeSets.map((cs: ChangeSet) => cs.transactionId)
        .join(),
    );
    // The dropped push went again, unchanged, then the rest: nothing skipped, nothing doubled.
    expect(pushes[0]).toBe(pushes[1]);
    expect(pushes[1]).toBe(pushes[2]);
    expect(new Set(pushes).size).toBe(pushes.length - 2);
    expect(h.errors.map((e) => e.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('keeps backing off from a server that closes with 1013 right after each handshake', async () => {
    const server = await scripted(() => {});
    const busy = (conn: ScriptedConnection): void => conn.socket.close(1013, 'Try again later');
    const db = h.memoryDb();
    const client = h.client(db, {
      ...NO_SNAPSHOT,
      reconnect: { baseDelayMs: 10, maxDelayMs: 100, random: () => 0.9999 },
    });
    const retries: number[] = [];
    client.on('status', (s: SyncStatus) => {
      if (s.state === 'offline' && s.retryInMs !== undefined) retries.push(s.retryInMs);
      if (s.state === 'syncing') busy(server.connections.at(-1)!);
    });
    await client.connect(await server.start(), 'db');
    await waitFor(() => retries.length >= 4, { what: 'four throttled sessions' });
    await client.disconnect();
    expect(retries.slice(0, 4)).toEqual([9, 19, 39, 79]);
  });
});

function maxHlc(sets: readonly ChangeSet[]): HLC {
  return sets.reduce((m, cs) => (compareHLC(cs.hlc, m) > 0 ? cs.hlc : m), sets[0]!.hlc);
}
