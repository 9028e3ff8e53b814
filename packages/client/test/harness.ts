// Per-test bookkeeping for the end-to-end tests: everything started is stopped, and the server's
// hooks record what each client site asked for, so tests can assert on the protocol flow.
import { join } from 'node:path';
import { encodeSiteId, type ChangeSet } from '@syncord/core';
import type { CoordinatorHooks } from '@syncord/coordinator';
import {
  LocalDatabase,
  SyncClient,
  type SyncClientOptions,
  type SyncError,
  type TableDefinition,
} from '@syncord/client';
import { openSqliteDatabase } from '../src/sqlite.js';
import { startCoordinator, tempDir, type Coordinator, type CoordinatorSettings } from './helpers.js';

export const NOTES: TableDefinition = {
  columns: { id: 'integer', title: 'text', done: 'integer' },
  primaryKey: ['id'],
};

/** Small backoff so reconnects happen within a test's time budget. */
export const FAST: SyncClientOptions = { reconnect: { baseDelayMs: 10, maxDelayMs: 100 }, pushDebounceMs: 0 };

export class Harness {
  private readonly cleanups: (() => unknown)[] = [];
  /** Operations per client site (base64url): get_changes@<since|zero>, get_snapshot, resume_snapshot, apply_changes. */
  readonly ops = new Map<string, string[]>();
  /** Change sets each site pushed, as the server's onBeforeApplyChanges saw them. */
  readonly pushed = new Map<string, ChangeSet[]>();
  readonly errors: SyncError[] = [];
  readonly dir = tempDir();

  constructor() {
    this.cleanups.push(() => this.dir.remove());
  }

  /** Hooks that record every operation; `before` can reject change sets. */
  hooks(before?: CoordinatorHooks['onBeforeApplyChanges']): CoordinatorHooks {
    return {
      onAuthorize: (client, op) => {
        const site = encodeSiteId(client.siteId);
        const label = op.type === 'get_changes' ? `get_changes@${op.sinceHLC ? 'since' : 'zero'}` : op.type;
        this.ops.set(site, [...(this.ops.get(site) ?? []), label]);
        return true;
      },
      onBeforeApplyChanges: async (client, changes) => {
        const site = encodeSiteId(client.siteId);
        this.pushed.set(site, [...(this.pushed.get(site) ?? []), ...changes]);
        return before ? before(client, changes) : { approved: changes, rejected: [] };
      },
    };
  }

  async coordinator(settings: Partial<CoordinatorSettings> = {}): Promise<Coordinator> {
    const coord = await startCoordinator({ dataDir: join(this.dir.path, 'server'), hooks: this.hooks(), ...settings });
    this.cleanups.push(() => coord.stop());
    return coord;
  }

  memoryDb(): LocalDatabase {
    const db = LocalDatabase.open();
    this.cleanups.push(() => db.close());
    return db;
  }

  sqliteDb(name: string): LocalDatabase {
    const db = openSqliteDatabase(join(this.dir.path, `${name}.db`));
    this.cleanups.push(() => db.close());
    return db;
  }

  client(db: LocalDatabase, options: SyncClientOptions = {}): SyncClient {
    const client = new SyncClient(db, { ...FAST, ...options });
    client.on('error', (e) => this.errors.push(e));
    this.cleanups.push(() => client.disconnect());
    return client;
  }

  /** Connects each client to `databaseId` in turn, then waits until all of them are synced. */
  async connectAll(url: string, databaseId: string, ...clients: SyncClient[]): Promise<void> {
    for (const client of clients) await client.connect(url, databaseId);
    await Promise.all(clients.map((client) => client.whenSynced()));
  }

  opsOf(db: LocalDatabase): string[] {
    return this.ops.get(encodeSiteId(db.siteId)) ?? [];
  }

  pushedBy(db: LocalDatabase): ChangeSet[] {
    return this.pushed.get(encodeSiteId(db.siteId)) ?? [];
  }

  defer(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async dispose(): Promise<void> {
    for (const fn of this.cleanups.reverse()) await fn();
    this.cleanups.length = 0;
  }
}

/** A table's stored cells as comparable text (what the replica holds, not the declared view). */
export function dump(db: LocalDatabase, table = 'notes'): string {
  const rows = [...db.replica.listRows('main', table)].map((r) => [r.pk, [...r.columns].sort()]);
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}
