// Shared test fixtures: replicas on both stores, hand-built change sets, a canonical dump.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeHLC,
  encodeSchemaMigration,
  encodeSqlValue,
  encodeSqlValues,
  makeHLC,
  MemoryReplicaStore,
  openMemoryReplica,
  Replica,
  type MemoryRecord,
  transactionIdOf,
  type Change,
  type ChangeSet,
  type HLC,
  type ReplicaOptions,
  type SchemaMigration,
  type SiteId,
  type SqlValue,
} from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterEach, beforeEach } from 'vitest';

export interface ReplicaFactory {
  /** `journaled`: a memory store reloaded from the records it reported (what browser storage keeps). */
  readonly kind: 'memory' | 'sqlite' | 'journaled';
  /** Opens a replica; for SQLite, `name` picks the file so a closed replica can be reopened. */
  open(options?: ReplicaOptions, name?: string): Replica;
  cleanup(): void;
}

export function memoryFactory(): ReplicaFactory {
  return { kind: 'memory', open: (options) => openMemoryReplica(options), cleanup: () => {} };
}

export function sqliteFactory(): ReplicaFactory {
  const dir = mkdtempSync(join(tmpdir(), 'syncord-replica-'));
  let n = 0;
  const opened: Replica[] = [];
  return {
    kind: 'sqlite',
    dir,
    open(options, name) {
      const r = openSqliteReplica(join(dir, `${name ?? `r${n++}`}.db`), options);
      opened.push(r);
      return r;
    },
    cleanup() {
      for (const r of opened) r.close();
      rmSync(dir, { recursive: true, force: true });
    },
  } as ReplicaFactory & { dir: string };
}

/**
 * Memory stores whose reported records are kept per name, structured-cloned as IndexedDB would
 * store them; opening a name again loads a new store from them, so every reopen check in these
 * tests also checks that the records describe the whole replica.
 */
export function journaledFactory(): ReplicaFactory {
  const saved = new Map<string, Map<string, MemoryRecord>>();
  let n = 0;
  return {
    kind: 'journaled',
    open(options, name) {
      const key = name ?? `r${n++}`;
      let records = saved.get(key);
      if (!records) saved.set(key, (records = new Map()));
      const kept = records;
      const store = new MemoryReplicaStore({
        onCommit: (writes) => {
          for (const w of writes) {
            if (w.record) kept.set(w.id, structuredClone(w.record));
            else kept.delete(w.id);
          }
        },
      });
      store.load([...kept.values()].map((r) => structuredClone(r)));
      return Replica.open(store, options);
    },
    cleanup: () => saved.clear(),
  };
}

export const FACTORIES: [string, () => ReplicaFactory][] = [
  ['memory', memoryFactory],
  ['sqlite', sqliteFactory],
  ['journaled', journaledFactory],
];

/** True when a replica opened again by name holds what the closed one held. */
export const reopenable = (kind: string): boolean => kind !== 'memory';

/** A deterministic UUIDv4-shaped site id whose first byte orders sites: siteOf(1) < siteOf(2). */
export function siteOf(n: number): SiteId {
  const id = new Uint8Array(16);
  id[0] = n;
  id[6] = 0x40;
  id[8] = 0x80;
  id[15] = n;
  return id;
}

type WithoutHlc<T> = T extends unknown ? Omit<T, 'hlc'> : never;
export type Fact = WithoutHlc<Change> | Omit<SchemaMigration, 'hlc'>;

export function col(table: string, pk: SqlValue[], column: string, value: SqlValue): WithoutHlc<Change> {
  return { type: 'column', schema: 'main', table, pk, column, value };
}

export function del(table: string, pk: SqlValue[]): WithoutHlc<Change> {
  return { type: 'delete', schema: 'main', table, pk };
}

export function createTable(table: string, schemaVersion = 1): Omit<SchemaMigration, 'hlc'> {
  return {
    type: 'create_table',
    schema: 'main',
    table,
    ddl: `create table ${table} (id integer primary key)`,
    schemaVersion,
  };
}

const isMigration = (f: Fact): f is Omit<SchemaMigration, 'hlc'> => f.type !== 'column' && f.type !== 'delete';

/** One transaction of `site` at (wall, counter); facts take opSeq in order. */
export function tx(site: SiteId, wall: number, counter: number, ...facts: Fact[]): ChangeSet {
  const changes: Change[] = [];
  const schemaMigrations: SchemaMigration[] = [];
  let last: HLC = makeHLC(BigInt(wall), counter, site, 0);
  facts.forEach((f, i) => {
    last = makeHLC(BigInt(wall), counter, site, i);
    if (isMigration(f)) schemaMigrations.push({ ...f, hlc: last });
    else changes.push({ ...f, hlc: last } as Change);
  });
  return { siteId: site, transactionId: transactionIdOf(last), hlc: last, changes, schemaMigrations };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Yields the stream and throws once `limit` chunks went through: an interrupted transfer. */
export async function* cutAfter<T>(chunks: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  let n = 0;
  for await (const c of chunks) {
    if (n++ === limit) throw new Error('connection lost');
    yield c;
  }
}

/** Canonical, order-free dump of a replica: cells with values and HLCs, tombstones, migrations. */
export async function dump(replica: Replica): Promise<string[]> {
  const lines: string[] = [];
  for await (const c of replica.snapshot()) {
    if (c.type === 'schema-migration') lines.push(`M ${JSON.stringify(encodeSchemaMigration(c.migration))}`);
    if (c.type === 'column-versions') {
      for (const e of c.entries) {
        const pk = JSON.stringify(encodeSqlValues(e.pk));
        lines.push(
          `C ${c.schema}.${c.table} ${pk} ${e.column}=${JSON.stringify(encodeSqlValue(e.value))} @${encodeHLC(e.hlc)}`,
        );
      }
    }
    if (c.type === 'tombstone') {
      for (const e of c.entries) {
        const prior = e.priorRow ? JSON.stringify(encodeSqlValues(e.priorRow)) : '-';
        lines.push(`T ${c.schema}.${c.table} ${JSON.stringify(encodeSqlValues(e.pk))} @${encodeHLC(e.hlc)} ${prior}`);
      }
    }
  }
  return lines.sort();
}

/** Change sets as comparable text (wire JSON), for exact assertions. */
export function rowOf(replica: Replica, table: string, pk: SqlValue[]): Record<string, SqlValue> | undefined {
  const row = replica.readRow('main', table, pk);
  return row ? Object.fromEntries(row) : undefined;
}

/** A fixed physical clock tests can move. */
export function manualClock(start = 1_700_000_000_000): {
  now: () => number;
  advance(ms: number): void;
  set(ms: number): void;
} {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

/**
 * Registers per-test setup in the calling `describe`: a fresh factory from `make` before each test
 * (cleaned up after it) and a manual clock reset to `start`. `f` delegates to the current factory.
 */
export function perTestReplicas(
  make: () => ReplicaFactory,
  start = 1_700_000_000_000,
): { readonly f: ReplicaFactory; readonly clock: ReturnType<typeof manualClock> } {
  let current: ReplicaFactory | undefined;
  const clock = manualClock(start);
  beforeEach(() => {
    current = make();
    clock.set(start);
  });
  afterEach(() => current?.cleanup());
  const using = (): ReplicaFactory => {
    if (!current) throw new Error('perTestReplicas: used outside a test');
    return current;
  };
  const f: ReplicaFactory = {
    get kind() {
      return using().kind;
    },
    open: (options, name) => using().open(options, name),
    cleanup: () => using().cleanup(),
  };
  return { f, clock };
}
