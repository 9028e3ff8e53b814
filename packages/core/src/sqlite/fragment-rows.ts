// The merge's reads and writes of rows as fragments (schema.ts). Reads come in batches (one
// statement per table per merge, whatever the row count); what they loaded is kept for the rest of
// the transaction, so the writes that follow know which fragment holds which column.
import type Database from 'better-sqlite3';
import { isCanonicalPk, pkText } from '../replica/pk-key.js';
import type { RowVersions, RowWrite, StoredCell } from '../replica/store.js';
import { compareBytes } from '../clock/bytes.js';
import { encodeSqlValues } from '../wire/sql-value.js';
import type { SqlValue } from '../wire/types.js';
import { metaText, parseMeta, parseVals, valsText, type FragmentCell } from './fragments.js';
import { BASE_BYTES, hlcOf, opSeqOf, sameBase } from '../replica/hlc-parts.js';
import { asBytes } from './rows.js';

interface LoadedFragment {
  readonly seq: number;
  readonly base: Uint8Array;
  cells: FragmentCell[];
  /** Loaded only when the fragment must be rewritten. */
  vals?: SqlValue[];
}

interface LoadedRow {
  readonly fragments: LoadedFragment[];
  tombstone?: Uint8Array;
}

type LoadRow = [string, number, Uint8Array, string];

function versionsOf(row: LoadedRow): RowVersions {
  const cells = new Map<string, Uint8Array>();
  for (const f of row.fragments) for (const c of f.cells) cells.set(c.column, hlcOf(f.base, c.opSeq));
  return row.tombstone ? { cells, tombstone: row.tombstone } : { cells };
}

const INSERT = 'INSERT INTO cells (seq, tbl, pk, base, meta, vals, pkx) VALUES';
const INSERT_ROW = '(?, ?, ?, ?, ?, ?, ?)';
/** Marks a row known to have no fragments and no tombstone. */
const NO_ROW: LoadedRow = Object.freeze({ fragments: [] }) as LoadedRow;

/** Fragments per INSERT statement: one statement per many rows halves the cost of a bulk merge. */
const INSERT_BATCH = 32;

export class FragmentRows {
  /** Single-row inserts that did not fill a multi-row statement. */
  private pendingRows: unknown[][] = [];
  /**
   * Rows loaded by the running transaction and not yet written, by `${tableId}:${pkKey}`. A write
   * drops its row again (a later write in the transaction reads the row afresh), so a large merge
   * does not keep every row it touched alive.
   */
  private cache: Map<string, LoadedRow> | undefined;
  /**
   * Tables that may hold tombstones: a merge into any other table skips the tombstone read. Only
   * ever grows (a rolled-back or pruned tombstone just costs a read that finds nothing).
   */
  private readonly tombstoneTables: Set<number>;
  private readonly s;

  constructor(db: Database.Database) {
    this.tombstoneTables = new Set(db.prepare<[], number>('SELECT DISTINCT tbl FROM tombstones').pluck().all());
    this.s = {
      fragments: db
        .prepare<[number, string], LoadRow>(
          'SELECT pk, seq, base, meta FROM cells WHERE tbl = ? AND pk IN (SELECT value FROM json_each(?))',
        )
        .raw(),
      tombstones: db
        .prepare<[number, string], [string, Uint8Array]>(
          'SELECT pk, hlc FROM tombstones WHERE tbl = ? AND pk IN (SELECT value FROM json_each(?))',
        )
        .raw(),
      vals: db.prepare<[number], string>('SELECT vals FROM cells WHERE seq = ?').pluck(),
      insert: db.prepare(`${INSERT} ${INSERT_ROW}`),
      insertMany: db.prepare(`${INSERT} ${Array(INSERT_BATCH).fill(INSERT_ROW).join(', ')}`),
      rewrite: db.prepare('UPDATE cells SET meta = ?, vals = ? WHERE seq = ?'),
      drop: db.prepare('DELETE FROM cells WHERE seq = ?'),
      putTombstone: db.prepare(
        'INSERT OR REPLACE INTO tombstones (seq, tbl, pk, hlc, created, prior, pkx) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
    };
  }

  beginTransaction(): void {
    this.cache = new Map();
  }

  endTransaction(): void {
    this.cache = undefined;
    this.pendingRows = []; // a failed write must not leak its rows into the next transaction
  }

  /** Rows that have fragments or a tombstone; the others are absent from the result. */
  private fetch(tableId: number, pkKeys: readonly string[]): Map<string, LoadedRow> {
    const rows = new Map<string, LoadedRow>();
    const rowOf = (pk: string): LoadedRow => {
      let row = rows.get(pk);
      if (!row) rows.set(pk, (row = { fragments: [] }));
      return row;
    };
    const keys = JSON.stringify(pkKeys);
    for (const [pk, seq, base, meta] of this.s.fragments.all(tableId, keys)) {
      rowOf(pk).fragments.push({ seq, base: asBytes(base), cells: parseMeta(meta) });
    }
    if (this.tombstoneTables.has(tableId)) {
      for (const [pk, hlc] of this.s.tombstones.all(tableId, keys)) rowOf(pk).tombstone = asBytes(hlc);
    }
    if (this.cache) {
      for (const pk of pkKeys) this.cache.set(`${tableId}:${pk}`, rows.get(pk) ?? NO_ROW);
    }
    return rows;
  }

  /** Versions of the rows that have any; absent rows have none. */
  load(tableId: number | undefined, pkKeys: readonly string[]): Map<string, RowVersions> {
    const out = new Map<string, RowVersions>();
    if (tableId === undefined) return out;
    for (const [pk, row] of this.fetch(tableId, pkKeys)) out.set(pk, versionsOf(row));
    return out;
  }

  write(tableId: number, rows: readonly RowWrite[]): void {
    const missing = rows.filter((w) => !this.cache?.has(`${tableId}:${w.pkKey}`)).map((w) => w.pkKey);
    const fetched = missing.length > 0 ? this.fetch(tableId, missing) : undefined;
    for (const w of rows) {
      const key = `${tableId}:${w.pkKey}`;
      let row = this.cache?.get(key) ?? fetched?.get(w.pkKey) ?? NO_ROW;
      this.cache?.delete(key);
      if (row === NO_ROW) row = { fragments: [] };
      if (w.tombstone) {
        const t = w.tombstone;
        const prior = t.priorRow ? JSON.stringify(encodeSqlValues(t.priorRow)) : null;
        const pkx = isCanonicalPk(t.pk) ? null : pkText(t.pk);
        this.tombstoneTables.add(tableId);
        this.s.putTombstone.run(t.seq, tableId, w.pkKey, t.hlc, t.createdAt, prior, pkx);
        row.tombstone = t.hlc;
      }
      const clear = w.clear;
      if (row.fragments.length > 0 && (clear || w.cells.length > 0)) {
        const taken = new Set(w.cells.map((c) => c.column));
        this.removeCells(row, (f, c) => {
          if (taken.has(c.column)) return true;
          return clear === 'all' || (clear !== undefined && compareBytes(hlcOf(f.base, c.opSeq), clear) <= 0);
        });
      }
      if (w.cells.length > 0) this.insertCells(tableId, w.pkKey, w.cells);
    }
    this.flushInserts();
  }

  private queueInsert(params: unknown[]): void {
    this.pendingRows.push(params);
    if (this.pendingRows.length === INSERT_BATCH) {
      const rows = this.pendingRows;
      this.pendingRows = [];
      this.s.insertMany.run(rows.flat());
    }
  }

  private flushInserts(): void {
    const rows = this.pendingRows;
    this.pendingRows = [];
    for (const params of rows) this.s.insert.run(params);
  }

  /** Takes cells out of the row's fragments, rewriting or deleting the fragments that change. */
  private removeCells(row: LoadedRow, remove: (f: LoadedFragment, c: FragmentCell) => boolean): void {
    for (let i = row.fragments.length - 1; i >= 0; i--) {
      const f = row.fragments[i]!;
      const keep: number[] = [];
      f.cells.forEach((c, j) => {
        if (!remove(f, c)) keep.push(j);
      });
      if (keep.length === f.cells.length) continue;
      if (keep.length === 0) {
        this.s.drop.run(f.seq);
        row.fragments.splice(i, 1);
        continue;
      }
      const vals = f.vals ?? parseVals(this.s.vals.get(f.seq)!);
      f.cells = keep.map((j) => f.cells[j]!);
      f.vals = keep.map((j) => vals[j]!);
      this.s.rewrite.run(metaText(f.cells), valsText(f.vals), f.seq);
    }
  }

  /** One new fragment per (transaction, exact pk spelling) among the cells. */
  private insertCells(tableId: number, pkKey: string, cells: readonly StoredCell[]): void {
    const groups: { pkx: string | null; cells: StoredCell[] }[] = [];
    let lastPk: unknown;
    let lastPkx: string | null = null;
    for (const c of cells) {
      if (c.pk !== lastPk) {
        lastPk = c.pk;
        lastPkx = isCanonicalPk(c.pk) ? null : pkText(c.pk);
      }
      const pkx = lastPkx;
      const g = groups.find((x) => x.pkx === pkx && sameBase(x.cells[0]!.hlc, c.hlc));
      if (g) g.cells.push(c);
      else groups.push({ pkx, cells: [c] });
    }
    for (const { pkx, cells: g } of groups) {
      let seq = 0;
      const meta: FragmentCell[] = new Array(g.length);
      const vals: SqlValue[] = new Array(g.length);
      for (let i = 0; i < g.length; i++) {
        const c = g[i]!;
        if (c.seq > seq) seq = c.seq;
        meta[i] = { column: c.column, opSeq: opSeqOf(c.hlc) };
        vals[i] = c.value;
      }
      const base = g[0]!.hlc.slice(0, BASE_BYTES);
      this.queueInsert([seq, tableId, pkKey, base, metaText(meta), valsText(vals), pkx]);
    }
  }
}
