// Cost of SyncClient.pendingWrites while offline: writes made one per task (as a user makes them),
// with and without a SyncClient counting them. Runs against the built package:
//   npx tsc -b packages/client && node bench/pending-writes.mjs
// Prints wall and CPU seconds per run and CPU-µs per write (the CPU figure is the steadier one on a
// shared machine).
import { performance } from 'node:perf_hooks';
import { LocalDatabase, SyncClient } from '../packages/client/dist/index.js';

async function run(n, withClient) {
  const db = LocalDatabase.open();
  db.declareTable('todos', { columns: { id: 'integer', title: 'text', done: 'integer' }, primaryKey: ['id'] });
  const client = withClient ? new SyncClient(db) : undefined;
  let last = 0;
  client?.on('pending', (c) => (last = c));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    db.put('todos', { id: i, title: `todo ${i}`, done: 0 });
    await new Promise((r) => setImmediate(r));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(
    `${n} offline writes, ${withClient ? 'with' : 'without'} SyncClient: ${wall.toFixed(2)} s wall, ${cpuS.toFixed(2)} CPU-s, ${((cpuS / n) * 1e6).toFixed(0)} CPU-µs/write${withClient ? `, last pending event ${last}` : ''}`,
  );
  db.close();
}
for (const n of [1000, 4000]) {
  await run(n, false);
  await run(n, true);
}
