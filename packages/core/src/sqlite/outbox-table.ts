// The outbox in SQLite: records an apply wrote in its own transaction, waiting to be shipped
// (the coordinator's S3 batch archive). AUTOINCREMENT so an id is never reused after a delete:
// an acknowledgement can never remove a newer entry that took an old id.
import type Database from 'better-sqlite3';
import type { OutboxEntry, OutboxStats } from '../replica/replica-api.js';

export class OutboxTable {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      add: db.prepare('INSERT INTO outbox (body, created) VALUES (?, ?)'),
      peek: db
        .prepare<[number], [number, string, number]>('SELECT id, body, created FROM outbox ORDER BY id LIMIT ?')
        .raw(),
      delete: db.prepare('DELETE FROM outbox WHERE id = ?'),
      stats: db
        .prepare<[], [number, number | null]>(
          'SELECT count(*), (SELECT created FROM outbox ORDER BY id LIMIT 1) FROM outbox',
        )
        .raw(),
    };
  }

  add(body: string, createdAt: number): void {
    this.s.add.run(body, createdAt);
  }

  peek(limit: number): OutboxEntry[] {
    return this.s.peek.all(limit).map(([id, body, createdAt]) => ({ id, body, createdAt }));
  }

  delete(id: number): void {
    this.s.delete.run(id);
  }

  stats(): OutboxStats {
    const [count, oldest] = this.s.stats.get()!;
    return oldest === null ? { count } : { count, oldestCreatedAt: oldest };
  }
}
