// The app's one table. Ids are random UUIDs: a deleted key stays deleted (a tombstone), so a key
// is never reused.
import type { LocalDatabase } from '@syncord/client';

export const DATABASE_ID = 'example:todos';

export function declareTodos(db: LocalDatabase) {
  return db.declareTable('todos', {
    columns: { id: 'text', title: 'text', done: 'integer', createdAt: 'integer' },
    primaryKey: ['id'],
  });
}

export type TodosTable = ReturnType<typeof declareTodos>;
