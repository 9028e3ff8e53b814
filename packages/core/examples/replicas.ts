// Replicas of one database kept in step with @syncord/core alone: no server, no network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeChangeSet, encodeChangeSet, encodeHLC, maxHLC, openMemoryReplica, type SqlValue } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';

export async function replicas(): Promise<Array<SqlValue | undefined>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'syncord-core-'));
  const alice = openSqliteReplica(path.join(dir, 'alice.sqlite')); // one SQLite file
  const bob = openMemoryReplica();
  const carol = openMemoryReplica();

  // A local transaction: one clock tick; DDL first, then one column change per column (key included).
  const created = alice.commitLocal({
    migrations: [
      {
        type: 'create_table',
        schema: 'main',
        table: 'notes',
        ddl: 'create table notes (id integer primary key, title text)',
        schemaVersion: 1,
      },
    ],
    changes: [
      { type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'id', value: 1 },
      { type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'title', value: 'draft' },
    ],
  });

  // On the wire a ChangeSet is the protocol's JSON; the receiver decodes it and merges.
  const text = JSON.stringify(encodeChangeSet(created));
  console.log(bob.applyChanges([decodeChangeSet(JSON.parse(text))])); // applied: 3 (a migration, two cells)

  // Concurrent writes to one cell: each replica merges the other's; the higher HLC wins on both.
  const byBob = bob.commitLocal({
    changes: [{ type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'title', value: 'Bob' }],
  });
  const byAlice = alice.commitLocal({
    changes: [{ type: 'column', schema: 'main', table: 'notes', pk: [1], column: 'title', value: 'Alice' }],
  });
  alice.applyChanges([byBob]);
  bob.applyChanges([byAlice]);
  const title = alice.readRow('main', 'notes', [1])?.get('title');
  console.log(title === bob.readRow('main', 'notes', [1])?.get('title')); // true

  // A catch-up: everything Alice holds that did not come from Carol, then only what is newer.
  const first = alice.getChangesSince(carol.siteId);
  carol.applyChanges(first);
  const watermark = first.map((cs) => cs.hlc).reduce(maxHLC);
  bob.commitLocal({ changes: [{ type: 'delete', schema: 'main', table: 'notes', pk: [1] }] }); // a row tombstone
  alice.applyChanges(bob.getChangesSince(alice.siteId));
  const next = alice.getChangesSince(carol.siteId, watermark);
  console.log(encodeHLC(watermark), next.length); // <40 base64 characters> 1: Bob's delete
  carol.applyChanges(next);

  // A new replica bootstraps from a snapshot stream instead.
  const dave = openMemoryReplica();
  await dave.applySnapshot(alice.snapshot());

  const rows = [alice, bob, carol, dave].map((r) => r.readRow('main', 'notes', [1])?.get('title'));
  console.log(rows); // [ undefined, undefined, undefined, undefined ]: the row is deleted everywhere
  for (const r of [alice, bob, carol, dave]) r.close();
  rmSync(dir, { recursive: true, force: true });
  return [title, ...rows];
}

// Run directly: node --import tsx replicas.ts
if (process.argv[1]?.endsWith('replicas.ts')) await replicas();
