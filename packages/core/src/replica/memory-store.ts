// A ReplicaStore in plain Maps, for browsers and tests. Transactions keep an undo log, so a throw
// restores every Map exactly. Scans are full passes (no HLC index): fine for the sizes a memory
// replica holds, and it keeps this store small. With `onCommit` it reports each commit's changed
// records (memory-records.ts), so a persistence layer behind it can keep a copy.
import { bytesEqual, compareBytes, fromHex, toHex } from '../clock/bytes.js';
import { BASE_BYTES, opSeqOf, siteOfHlc } from './hlc-parts.js';
import { ownBytes, recordId, type MemoryRecord, type MemoryStoreOptions, type RecordWrite } from './memory-records.js';
import { MemorySnapshotReader } from './memory-snapshot.js';
import type { OutboxEntry, OutboxStats } from './replica-api.js';
import { byString, firstAfter, sortedCells, sortedKeys } from './sorted-keys.js';
import {
  type MigrationKind,
  type RowWrite,
  type PruneResult,
  type ReplicaStore,
  type RowVersions,
  type SnapshotReader,
  type StoredCell,
  type ScannedFact,
  type ScannedTx,
  type StoredMigration,
  type StoredTombstone,
  type TableRef,
  type TableStats,
  type WatermarkRecord,
  tableRef,
} from './store.js';

export interface TableMap<V> {
  readonly ref: TableRef;
  readonly rows: Map<string, V>;
}

function migrationKey(schema: string, kind: MigrationKind, name: string, version: number): string {
  return JSON.stringify([schema, kind, name, version]);
}

export class MemoryReplicaStore implements ReplicaStore {
  private readonly meta = new Map<string, string>();
  readonly cells = new Map<string, TableMap<Map<string, StoredCell>>>();
  readonly tombstones = new Map<string, TableMap<StoredTombstone>>();
  readonly migrations = new Map<string, StoredMigration>();
  private readonly watermarks = new Map<string, Map<string, WatermarkRecord>>();
  private readonly watermarkFloors = new Map<string, Uint8Array>();
  private readonly outbox = new Map<number, OutboxEntry>();
  private outboxLastId = 0;
  private undo: (() => void)[] | undefined;
  /** Counts changes, so caches derived from the Maps know when they went stale. */
  private writes = 0;
  private readonly sortedRows = new WeakMap<object, { writes: number; keys: string[] }>();
  /** Records changed by the open transaction (only with onCommit): id → how to read it now. */
  private readonly dirty = new Map<string, () => MemoryRecord | undefined>();

  constructor(private readonly options: MemoryStoreOptions = {}) {}

  transaction<T>(fn: () => T, options?: { durable?: boolean }): T {
    if (this.undo) throw new Error('MemoryReplicaStore transactions do not nest');
    const undo: (() => void)[] = [];
    this.undo = undo;
    let result: T;
    try {
      result = fn();
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      // Every touched record is back to its committed state: nothing to report.
      this.dirty.clear();
      throw err;
    } finally {
      this.undo = undefined;
    }
    this.reportCommit(options?.durable !== false);
    return result;
  }

  /** Rebuilds the contents from records that `onCommit` reported (into an empty store). */
  load(records: Iterable<MemoryRecord>): void {
    if (this.undo) throw new Error('MemoryReplicaStore.load runs outside transactions');
    for (const r of records) {
      switch (r.kind) {
        case 'meta':
          this.meta.set(r.key, r.value);
          break;
        case 'row':
          this.loadRow(r);
          break;
        case 'migration':
          this.migrations.set(
            migrationKey(r.migration.schema, r.migration.kind, r.migration.table, r.migration.schemaVersion),
            r.migration,
          );
          break;
        case 'watermarks': {
          const key = toHex(r.site);
          if (r.records.length > 0) this.watermarks.set(key, new Map(r.records.map((w) => [toHex(w.hlc), w])));
          if (r.floor) this.watermarkFloors.set(key, r.floor);
          break;
        }
        case 'outbox':
          this.outbox.set(r.entry.id, r.entry);
          this.outboxLastId = Math.max(this.outboxLastId, r.entry.id);
          break;
        case 'outboxSeq':
          this.outboxLastId = Math.max(this.outboxLastId, r.lastId);
          break;
      }
    }
    // Ids only grow (peek returns oldest first in Map order): re-insert in id order.
    const entries = [...this.outbox.values()].sort((a, b) => a.id - b.id);
    this.outbox.clear();
    for (const e of entries) this.outbox.set(e.id, e);
    this.writes++;
  }

  private loadRow(r: Extract<MemoryRecord, { kind: 'row' }>): void {
    const table = tableRef(r.schema, r.table);
    const { pkKey, pk } = r;
    if (r.cells.length > 0) {
      const t = this.tableOf(this.cells, table, true)!;
      t.rows.set(pkKey, new Map(r.cells.map((c) => [c.column, { table, pkKey, pk, ...c }])));
    }
    if (r.tombstone) this.tableOf(this.tombstones, table, true)!.rows.set(pkKey, { table, pkKey, pk, ...r.tombstone });
  }

  /** Notes that a record changed; outside a transaction the change is reported at once. */
  private touch(id: string, read: () => MemoryRecord | undefined): void {
    if (!this.options.onCommit) return;
    this.dirty.set(id, read);
    if (!this.undo) this.reportCommit(true);
  }

  private reportCommit(durable: boolean): void {
    const onCommit = this.options.onCommit;
    if (!onCommit || this.dirty.size === 0) return;
    const writes: RecordWrite[] = [];
    for (const [id, read] of this.dirty) writes.push({ id, record: read() });
    this.dirty.clear();
    onCommit(writes, durable);
  }

  /** Every record, as `onCommit` reports them: what a persisted copy holds after compaction. */
  exportRecords(): RecordWrite[] {
    const out: RecordWrite[] = [];
    const add = (id: string, record: MemoryRecord | undefined): void => {
      if (record) out.push({ id, record });
    };
    for (const key of this.meta.keys()) add(recordId.meta(key), this.metaRecord(key));
    const rows = new Map<string, { table: TableRef; pkKey: string }>();
    for (const maps of [this.cells, this.tombstones] as Map<string, TableMap<unknown>>[])
      for (const t of maps.values())
        for (const pkKey of t.rows.keys()) rows.set(recordId.row(t.ref.key, pkKey), { table: t.ref, pkKey });
    for (const [id, { table, pkKey }] of rows) add(id, this.rowRecord(table, pkKey));
    for (const key of this.migrations.keys()) add(recordId.migration(key), this.migrationRecord(key));
    for (const site of new Set([...this.watermarks.keys(), ...this.watermarkFloors.keys()]))
      add(recordId.watermarks(site), this.watermarkRecord(site));
    for (const id of this.outbox.keys()) add(recordId.outbox(id), this.outboxRecord(id));
    if (this.outboxLastId > 0) add(recordId.outboxSeq, { kind: 'outboxSeq', lastId: this.outboxLastId });
    return out;
  }

  private touchRow(table: TableRef, pkKey: string): void {
    this.touch(recordId.row(table.key, pkKey), () => this.rowRecord(table, pkKey));
  }

  private rowRecord(table: TableRef, pkKey: string): MemoryRecord | undefined {
    const cells = this.cells.get(table.key)?.rows.get(pkKey);
    const tomb = this.tombstones.get(table.key)?.rows.get(pkKey);
    const any = cells?.values().next().value ?? tomb;
    if (!any) return undefined;
    return {
      kind: 'row',
      schema: table.schema,
      table: table.table,
      pkKey,
      pk: any.pk,
      cells: [...(cells?.values() ?? [])].map((c) => ({
        column: c.column,
        value: c.value,
        hlc: ownBytes(c.hlc),
        seq: c.seq,
      })),
      ...(tomb
        ? {
            tombstone: {
              hlc: ownBytes(tomb.hlc),
              seq: tomb.seq,
              createdAt: tomb.createdAt,
              ...(tomb.priorRow ? { priorRow: tomb.priorRow } : {}),
            },
          }
        : {}),
    };
  }

  private touchWatermarks(siteHex: string): void {
    this.touch(recordId.watermarks(siteHex), () => this.watermarkRecord(siteHex));
  }

  private watermarkRecord(siteHex: string): MemoryRecord | undefined {
    const records = [...(this.watermarks.get(siteHex)?.values() ?? [])];
    const floor = this.watermarkFloors.get(siteHex);
    if (records.length === 0 && !floor) return undefined;
    return {
      kind: 'watermarks',
      site: fromHex(siteHex),
      records: records.map((r) => ({ ...r, site: ownBytes(r.site), hlc: ownBytes(r.hlc) })),
      ...(floor ? { floor: ownBytes(floor) } : {}),
    };
  }

  savepoint<T>(fn: () => T): T {
    const undo = this.undo;
    if (!undo) throw new Error('MemoryReplicaStore savepoints need an open transaction');
    const mark = undo.length;
    try {
      return fn();
    } catch (err) {
      for (let i = undo.length - 1; i >= mark; i--) undo[i]!();
      undo.length = mark;
      throw err;
    }
  }

  /** Sets or (with undefined) deletes one entry, remembering how to take it back. */
  private put<K, V>(map: Map<K, V>, key: K, value: V | undefined): void {
    this.writes++;
    const had = map.has(key);
    const prev = map.get(key);
    if (value === undefined) map.delete(key);
    else map.set(key, value);
    this.undo?.push(() => (had ? map.set(key, prev as V) : map.delete(key)));
  }

  private tableOf<V>(maps: Map<string, TableMap<V>>, table: TableRef, create: boolean): TableMap<V> | undefined {
    let t = maps.get(table.key);
    if (!t && create) this.put(maps, table.key, (t = { ref: table, rows: new Map() }));
    return t;
  }

  /** Drops a row entry and then its table when they became empty. */
  private dropRow<V>(maps: Map<string, TableMap<V>>, t: TableMap<V>, pkKey: string): void {
    this.put(t.rows, pkKey, undefined);
    if (t.rows.size === 0) this.put(maps, t.ref.key, undefined);
  }

  getMeta(key: string): string | undefined {
    return this.meta.get(key);
  }
  setMeta(key: string, value: string): void {
    this.put(this.meta, key, value);
    this.touchMeta(key);
  }
  deleteMeta(key: string): void {
    this.put(this.meta, key, undefined);
    this.touchMeta(key);
  }
  private touchMeta(key: string): void {
    this.touch(recordId.meta(key), () => this.metaRecord(key));
  }
  private metaRecord(key: string): MemoryRecord | undefined {
    const value = this.meta.get(key);
    return value === undefined ? undefined : { kind: 'meta', key, value };
  }

  loadRows(table: TableRef, pkKeys: readonly string[]): Map<string, RowVersions> {
    const out = new Map<string, RowVersions>();
    const cellRows = this.cells.get(table.key)?.rows;
    const tombRows = this.tombstones.get(table.key)?.rows;
    for (const pkKey of pkKeys) {
      const cells = new Map<string, Uint8Array>();
      const row = cellRows?.get(pkKey);
      if (row) for (const [col, c] of row) cells.set(col, c.hlc);
      const tomb = tombRows?.get(pkKey);
      out.set(pkKey, tomb ? { cells, tombstone: tomb.hlc } : { cells });
    }
    return out;
  }

  writeRows(table: TableRef, rows: readonly RowWrite[]): void {
    for (const w of rows) {
      if (w.tombstone) this.put(this.tableOf(this.tombstones, table, true)!.rows, w.pkKey, w.tombstone);
      if (w.clear) this.clearCells(table, w.pkKey, w.clear);
      if (w.cells.length === 0) continue;
      const t = this.tableOf(this.cells, table, true)!;
      let row = t.rows.get(w.pkKey);
      if (!row) this.put(t.rows, w.pkKey, (row = new Map()));
      for (const c of w.cells) this.put(row, c.column, c);
    }
    for (const w of rows) this.touchRow(table, w.pkKey);
  }

  private clearCells(table: TableRef, pkKey: string, clear: 'all' | Uint8Array): void {
    const t = this.cells.get(table.key);
    const row = t?.rows.get(pkKey);
    if (!t || !row) return;
    for (const [col, c] of [...row])
      if (clear === 'all' || compareBytes(c.hlc, clear) <= 0) this.put(row, col, undefined);
    if (row.size === 0) this.dropRow(this.cells, t, pkKey);
  }

  getMigrationHlc(schema: string, kind: MigrationKind, name: string, schemaVersion: number): Uint8Array | undefined {
    return this.migrations.get(migrationKey(schema, kind, name, schemaVersion))?.hlc;
  }
  getMigration(schema: string, kind: MigrationKind, name: string, schemaVersion: number): StoredMigration | undefined {
    return this.migrations.get(migrationKey(schema, kind, name, schemaVersion));
  }
  putMigration(m: StoredMigration): void {
    const key = migrationKey(m.schema, m.kind, m.table, m.schemaVersion);
    this.put(this.migrations, key, m);
    this.touchMigration(key);
  }
  private touchMigration(key: string): void {
    this.touch(recordId.migration(key), () => this.migrationRecord(key));
  }
  private migrationRecord(key: string): MemoryRecord | undefined {
    const m = this.migrations.get(key);
    return m && { kind: 'migration', migration: { ...m, hlc: ownBytes(m.hlc) } };
  }
  listMigrations(): StoredMigration[] {
    return [...this.migrations.values()];
  }

  /** Every cell and tombstone passing `keep`, grouped per transaction, ascending by base. */
  private scan(keep: (hlc: Uint8Array, seq: number) => boolean, excludeSite: Uint8Array | undefined): ScannedTx[] {
    const picked: { hlc: Uint8Array; fact: ScannedFact }[] = [];
    const consider = (hlc: Uint8Array, seq: number, fact: () => ScannedFact): void => {
      if (!keep(hlc, seq) || (excludeSite && bytesEqual(siteOfHlc(hlc), excludeSite))) return;
      picked.push({ hlc, fact: fact() });
    };
    for (const t of this.cells.values()) {
      for (const row of t.rows.values()) {
        for (const c of row.values()) {
          consider(c.hlc, c.seq, () => ({
            kind: 'cell',
            table: c.table,
            pk: c.pk,
            column: c.column,
            value: c.value,
            opSeq: opSeqOf(c.hlc),
          }));
        }
      }
    }
    for (const t of this.tombstones.values()) {
      for (const x of t.rows.values()) {
        consider(x.hlc, x.seq, () => ({
          kind: 'tombstone',
          table: x.table,
          pk: x.pk,
          opSeq: opSeqOf(x.hlc),
          ...(x.priorRow ? { priorRow: x.priorRow } : {}),
        }));
      }
    }
    picked.sort((a, b) => compareBytes(a.hlc, b.hlc));
    const out: ScannedTx[] = [];
    for (const { hlc, fact } of picked) {
      const last = out[out.length - 1];
      if (last && bytesEqual(last.base, hlc.subarray(0, BASE_BYTES))) last.facts.push(fact);
      else out.push({ base: hlc.slice(0, BASE_BYTES), facts: [fact] });
    }
    return out;
  }

  scanAfterHlc(after: Uint8Array | undefined, excludeSite: Uint8Array | undefined): Iterable<ScannedTx> {
    return this.scan((hlc) => !after || compareBytes(hlc, after) > 0, excludeSite);
  }

  scanLate(
    afterSeq: number,
    afterBase: Uint8Array | undefined,
    below: Uint8Array,
    excludeSite: Uint8Array | undefined,
  ): Iterable<ScannedTx> {
    const after = (hlc: Uint8Array): boolean => !afterBase || compareBytes(hlc.subarray(0, BASE_BYTES), afterBase) > 0;
    return this.scan((hlc, seq) => seq > afterSeq && compareBytes(hlc, below) < 0 && after(hlc), excludeSite);
  }

  rowCells(table: TableRef, pkKey: string): StoredCell[] {
    const row = this.cells.get(table.key)?.rows.get(pkKey);
    return row ? [...row.values()] : [];
  }

  rowPage(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][] {
    const t = this.cells.get(table.key);
    if (!t) return [];
    // Sorted keys are cached until the next write, so paging through a table stays linear.
    let sorted = this.sortedRows.get(t);
    if (!sorted || sorted.writes !== this.writes) {
      sorted = { writes: this.writes, keys: sortedKeys(t.rows) };
      this.sortedRows.set(t, sorted);
    }
    const from = firstAfter(sorted.keys, afterPkKey);
    return sorted.keys.slice(from, from + maxRows).map((k) => sortedCells(t.rows.get(k)!));
  }

  hasTable(schema: string, table: string): boolean {
    const key = JSON.stringify([schema, table]);
    if (this.cells.has(key) || this.tombstones.has(key)) return true;
    for (const m of this.migrations.values())
      if (m.kind === 'table' && m.schema === schema && m.table === table) return true;
    return false;
  }

  tableStats(): TableStats[] {
    const refs = new Map<string, TableRef>();
    for (const maps of [this.cells, this.tombstones] as Map<string, TableMap<unknown>>[])
      for (const [key, t] of maps) refs.set(key, t.ref);
    return [...refs.keys()].sort(byString).map((key) => {
      let cells = 0;
      const rows = this.cells.get(key)?.rows;
      for (const row of rows?.values() ?? []) cells += row.size;
      const tombstones = this.tombstones.get(key)?.rows.size ?? 0;
      return { table: refs.get(key)!, rows: rows?.size ?? 0, cells, tombstones };
    });
  }

  pruneTombstones(createdBefore: number): PruneResult {
    let removed = 0;
    let maxSeq = 0;
    let maxHlc: Uint8Array | undefined;
    for (const t of [...this.tombstones.values()]) {
      for (const [pk, x] of [...t.rows]) {
        if (x.createdAt >= createdBefore) continue;
        removed++;
        maxSeq = Math.max(maxSeq, x.seq);
        if (!maxHlc || compareBytes(x.hlc, maxHlc) > 0) maxHlc = x.hlc;
        this.dropRow(this.tombstones, t, pk);
        this.touchRow(t.ref, pk);
      }
    }
    return maxHlc ? { removed, maxSeq, maxHlc } : { removed, maxSeq };
  }

  clearForSnapshot(keep: (table: TableRef) => boolean): void {
    for (const key of [...this.migrations.keys()]) {
      this.put(this.migrations, key, undefined);
      this.touchMigration(key);
    }
    for (const maps of [this.cells, this.tombstones] as Map<string, TableMap<unknown>>[]) {
      for (const [key, t] of [...maps]) {
        if (keep(t.ref)) continue;
        this.put(maps, key, undefined);
        for (const pkKey of t.rows.keys()) this.touchRow(t.ref, pkKey);
      }
    }
  }

  listWatermarks(site: Uint8Array): WatermarkRecord[] {
    return [...(this.watermarks.get(toHex(site))?.values() ?? [])];
  }
  putWatermark(r: WatermarkRecord): void {
    const key = toHex(r.site);
    let bySite = this.watermarks.get(key);
    if (!bySite) this.put(this.watermarks, key, (bySite = new Map()));
    this.put(bySite, toHex(r.hlc), r);
    this.touchWatermarks(key);
  }
  deleteWatermark(site: Uint8Array, hlc: Uint8Array): void {
    const key = toHex(site);
    const bySite = this.watermarks.get(key);
    if (!bySite) return;
    this.put(bySite, toHex(hlc), undefined);
    if (bySite.size === 0) this.put(this.watermarks, key, undefined);
    this.touchWatermarks(key);
  }
  watermarkSiteCount(): number {
    return this.watermarks.size;
  }
  leastRecentWatermarkSite(): Uint8Array | undefined {
    let best: { site: Uint8Array; use: number } | undefined;
    for (const bySite of this.watermarks.values()) {
      let use = 0;
      let site: Uint8Array | undefined;
      for (const r of bySite.values()) {
        use = Math.max(use, r.useSeq);
        site = r.site;
      }
      if (site && (!best || use < best.use)) best = { site, use };
    }
    return best?.site;
  }
  deleteWatermarkSite(site: Uint8Array): void {
    this.put(this.watermarks, toHex(site), undefined);
    this.put(this.watermarkFloors, toHex(site), undefined);
    this.touchWatermarks(toHex(site));
  }
  deleteWatermarksUsedBefore(usedBefore: number): Uint8Array | undefined {
    let max: Uint8Array | undefined;
    const note = (hlc: Uint8Array): void => {
      if (!max || compareBytes(hlc, max) > 0) max = hlc;
    };
    for (const bySite of [...this.watermarks.values()]) {
      for (const r of [...bySite.values()]) {
        if (r.usedAt >= usedBefore) continue;
        note(r.hlc);
        this.deleteWatermark(r.site, r.hlc);
      }
    }
    for (const [key, floor] of [...this.watermarkFloors]) {
      if (this.watermarks.has(key)) continue;
      note(floor);
      this.put(this.watermarkFloors, key, undefined);
      this.touchWatermarks(key);
    }
    return max;
  }
  getWatermarkFloor(site: Uint8Array): Uint8Array | undefined {
    return this.watermarkFloors.get(toHex(site));
  }
  setWatermarkFloor(site: Uint8Array, hlc: Uint8Array): void {
    this.put(this.watermarkFloors, toHex(site), hlc.slice());
    this.touchWatermarks(toHex(site));
  }

  openSnapshotReader(): SnapshotReader {
    return new MemorySnapshotReader(this);
  }

  outboxAdd(body: string, createdAt: number): void {
    const id = ++this.outboxLastId;
    this.put(this.outbox, id, { id, body, createdAt });
    this.touchOutbox(id);
    this.touch(recordId.outboxSeq, () => ({ kind: 'outboxSeq', lastId: this.outboxLastId }));
  }
  outboxPeek(limit: number): OutboxEntry[] {
    // Map iteration is insertion order, and ids only grow: oldest first.
    const out: OutboxEntry[] = [];
    for (const entry of this.outbox.values()) {
      if (out.length >= limit) break;
      out.push(entry);
    }
    return out;
  }
  outboxDelete(id: number): void {
    if (!this.outbox.has(id)) return;
    this.put(this.outbox, id, undefined);
    this.touchOutbox(id);
  }
  private touchOutbox(id: number): void {
    this.touch(recordId.outbox(id), () => this.outboxRecord(id));
  }
  private outboxRecord(id: number): MemoryRecord | undefined {
    const entry = this.outbox.get(id);
    return entry && { kind: 'outbox', entry };
  }
  outboxStats(): OutboxStats {
    const first = this.outbox.values().next();
    return first.done ? { count: 0 } : { count: this.outbox.size, oldestCreatedAt: first.value.createdAt };
  }

  close(): void {}
}
