// Group commit over real sockets: applies reaching one database together share one transaction,
// each keeps its own result or error, replies keep their order per connection, and an
// acknowledgement comes only after the shared commit (the write is in the file).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId, MAX_DRIFT_MS, newSiteId, type Replica } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { describe, expect, it } from 'vitest';
import { BASE_WALL, wire, writeRow } from './support/change-sets.js';
import { startTestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

/** The next message that is not a broadcast (the other writer's pushes interleave). */
async function nextReply(client: TestClient): Promise<Record<string, unknown>> {
  for (;;) {
    const message = await client.next();
    if (message.type !== 'push_changes') return message;
  }
}

describe('group commit', () => {
  it('merges concurrent applies into one commit, each with its own outcome, replies in order', async () => {
    const groups: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let waiting = 0;
    const srv = await startTestServer({
      // The real replica; only its group size is recorded.
      openReplica: (file) => {
        const replica: Replica = openSqliteReplica(file);
        const applyGroup = replica.applyGroup.bind(replica);
        replica.applyGroup = (batches) => {
          groups.push(batches.length);
          return applyGroup(batches);
        };
        return replica;
      },
      hooks: {
        // Holds the first apply of each socket until both are in; a socket's later applies follow
        // its first one through the hook in the same turn, so all five reach one commit queue.
        onBeforeApplyChanges: async (_client, changes) => {
          if (++waiting === 2) release();
          await gate;
          return { approved: changes, rejected: [] };
        },
      },
    });
    try {
      const siteA = newSiteId();
      const siteB = newSiteId();
      const a = await TestClient.open(srv.ws);
      const b = await TestClient.open(srv.ws);
      const watcher = await TestClient.open(srv.ws);
      await a.handshake({ databaseId: 'db', siteId: encodeSiteId(siteA) });
      await b.handshake({ databaseId: 'db', siteId: encodeSiteId(siteB) });
      await watcher.handshake({ databaseId: 'db', siteId: encodeSiteId(newSiteId()) });
      const ahead = BASE_WALL + BigInt(3_600_000 + 2 * MAX_DRIFT_MS);
      const sets = [
        writeRow(siteA, 't', [1], { v: 'a1' }),
        writeRow(siteA, 't', [2], { v: 'a2' }, { counter: 1 }),
        writeRow(siteA, 't', [3], { v: 'drifted' }, { wall: ahead }),
        writeRow(siteA, 't', [4], { v: 'a4' }, { counter: 2 }),
      ];
      sets.forEach((cs, i) => a.send({ type: 'apply_changes', requestId: `a${i + 1}`, changes: [wire(cs)] }));
      b.send({ type: 'apply_changes', requestId: 'b1', changes: [wire(writeRow(siteB, 't', [5], { v: 'b1' }))] });
      // Sent behind the applies on the same socket: answered after them, and sees them.
      a.send({ type: 'get_changes' });

      const replies: Record<string, unknown>[] = [];
      for (let i = 0; i < 5; i++) replies.push(await nextReply(a));
      expect(replies[0]).toMatchObject({ type: 'apply_result', requestId: 'a1', applied: 1 });
      expect(replies[1]).toMatchObject({ type: 'apply_result', requestId: 'a2', applied: 1 });
      expect(replies[2]).toMatchObject({ type: 'error', code: 'APPLY_CHANGES_ERROR' });
      expect(replies[3]).toMatchObject({ type: 'apply_result', requestId: 'a4', applied: 1 });
      expect(replies[4]).toMatchObject({ type: 'changes' });
      expect(await nextReply(b)).toMatchObject({ type: 'apply_result', requestId: 'b1', applied: 1 });
      expect(groups).toEqual([5]);

      const pushed = new Set<unknown>();
      for (let i = 0; i < 4; i++) {
        const push = await watcher.next('push_changes');
        for (const cs of push.changeSets as { changes: { pk: unknown[] }[] }[])
          for (const c of cs.changes) pushed.add(c.pk[0]);
      }
      expect([...pushed].sort()).toEqual([1, 2, 4, 5]);

      // Acknowledged means durable: the file holds every acknowledged write and not the refused one.
      const file = readdirSync(srv.dataDir).find((f) => f.endsWith('.sqlite'));
      const direct = openSqliteReplica(path.join(srv.dataDir, file!));
      try {
        for (const pk of [1, 2, 4, 5]) expect(direct.readRow('main', 't', [pk])).toBeDefined();
        expect(direct.readRow('main', 't', [3])).toBeUndefined();
      } finally {
        direct.close();
      }
    } finally {
      await srv.stop();
    }
  });
});
