// A ReplicaStore in plain Maps, for browsers and tests. Transactions keep an undo log, so a throw
// restores every Map exactly. Scans are full passes (no HLC index): fine for the sizes a memory
// replica holds, and it keeps this store small.
import { bytesEqual, compareBytes, toHex } from '../clock/bytes.js';
import { BASE_BYTES, opSeqOf, siteOfHlc } from './hlc-parts.js';
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

  transaction<T>(fn: () => T): T {
    if (this.undo) throw new Error('MemoryReplicaStore transactions do not nest');
    const undo: (() => void)[] = [];
    this.undo = undo;
    try {
      return fn();
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw err;
    } finally {
      this.undo = undefined;
    }
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
  }
  deleteMeta(key: string): void {
    this.put(this.meta, key, undefined);
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
    this.put(this.migrations, migrationKey(m.schema, m.kind, m.table, m.schemaVersion), m);
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
      }
    }
    return maxHlc ? { removed, maxSeq, maxHlc } : { removed, maxSeq };
  }

  clearForSnapshot(keep: (table: TableRef) => boolean): void {
    for (const key of [...this.migrations.keys()]) this.put(this.migrations, key, undefined);
    for (const maps of [this.cells, this.tombstones] as Map<string, TableMap<unknown>>[]) {
      for (const [key, t] of [...maps]) if (!keep(t.ref)) this.put(maps, key, undefined);
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
  }
  deleteWatermark(site: Uint8Array, hlc: Uint8Array): void {
    const key = toHex(site);
    const bySite = this.watermarks.get(key);
    if (!bySite) return;
    this.put(bySite, toHex(hlc), undefined);
    if (bySite.size === 0) this.put(this.watermarks, key, undefined);
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
    }
    return max;
  }
  getWatermarkFloor(site: Uint8Array): Uint8Array | undefined {
    return this.watermarkFloors.get(toHex(site));
  }
  setWatermarkFloor(site: Uint8Array, hlc: Uint8Array): void {
    this.put(this.watermarkFloors, toHex(site), hlc.slice());
  }

  openSnapshotReader(): SnapshotReader {
    return new MemorySnapshotReader(this);
  }

  outboxAdd(body: string, createdAt: number): void {
    const id = ++this.outboxLastId;
    this.put(this.outbox, id, { id, body, createdAt });
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
    if (this.outbox.has(id)) this.put(this.outbox, id, undefined);
  }
  outboxStats(): OutboxStats {
    const first = this.outbox.values().next();
    return first.done ? { count: 0 } : { count: this.outbox.size, oldestCreatedAt: first.value.createdAt };
  }

  close(): void {}
}
