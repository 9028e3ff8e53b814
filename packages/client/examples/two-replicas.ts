// Two replicas of one database kept in sync through a Syncord coordinator.
import { LocalDatabase, SyncClient, type Row } from '@syncord/client';

export async function twoReplicas(url: string): Promise<Row[]> {
  // Each app instance holds a full local replica (in memory here; see "Storage" for SQLite).
  const alice = LocalDatabase.open();
  const bob = LocalDatabase.open();
  for (const db of [alice, bob]) {
    db.declareTable('todos', { columns: { id: 'text', title: 'text', done: 'integer' }, primaryKey: ['id'] });
  }

  const aliceSync = new SyncClient(alice);
  const bobSync = new SyncClient(bob);
  bobSync.on('status', (s) => console.log('bob is', s.state));
  await aliceSync.connect(url, 'demo:todos');
  await bobSync.connect(url, 'demo:todos');

  // A write is local first, then pushed; Bob's replica applies it as soon as it arrives.
  const bobSeesMilk = until(bob, () => bob.get('todos', 'milk') !== undefined);
  alice.put('todos', { id: 'milk', title: 'Buy milk', done: 0 });
  await bobSeesMilk;

  // Offline edits are kept and pushed on reconnect; concurrent edits converge (last writer wins per column).
  await bobSync.disconnect();
  bob.put('todos', { id: 'milk', done: 1 });
  alice.transaction((tx) => {
    tx.put('todos', { id: 'bread', title: 'Bake bread', done: 0 });
    tx.put('todos', { id: 'milk', title: 'Buy oat milk' });
  });
  await aliceSync.whenSynced();
  await bobSync.connect(url, 'demo:todos');
  await until(alice, () => alice.get('todos', 'milk')?.['done'] === 1);

  const rows = bob.list('todos');
  console.log(rows); // both replicas: bread, and milk = { title: 'Buy oat milk', done: 1 }
  await Promise.all([aliceSync.disconnect(), bobSync.disconnect()]);
  alice.close();
  bob.close();
  return rows;
}

/** Resolves once `check` holds, checking again after every change to `db`. */
function until(db: LocalDatabase, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (check()) return resolve();
    const stop = db.subscribe(() => {
      if (check()) {
        stop();
        resolve();
      }
    });
  });
}

// Run directly: node --import tsx two-replicas.ts ws://localhost:3000/sync/ws
if (process.argv[1]?.endsWith('two-replicas.ts')) {
  await twoReplicas(process.argv[2] ?? 'ws://localhost:3000/sync/ws');
}
