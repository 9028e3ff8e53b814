// Rows of one table in pk-key order, a page at a time, each row's cells sorted by column: what
// listRows and the snapshot producer read. Paging by key keeps no statement open between pages.
import type Database from 'better-sqlite3';
import type { StoredCell, TableRef } from '../replica/store.js';
import { FRAGMENT_COLUMNS, fragmentCells, PkDecoder, type FragmentRow, type TableDirectory } from './rows.js';

export class RowPager {
  private readonly keys;
  private readonly fragments;

  constructor(
    db: Database.Database,
    private readonly tables: TableDirectory,
  ) {
    this.keys = db
      .prepare<[number, string, number], string>(
        'SELECT DISTINCT pk FROM cells WHERE tbl = ? AND pk > ? ORDER BY pk LIMIT ?',
      )
      .pluck();
    this.fragments = db
      .prepare<[number, string, string], FragmentRow>(
        `SELECT ${FRAGMENT_COLUMNS} FROM cells WHERE tbl = ? AND pk >= ? AND pk <= ? ORDER BY pk`,
      )
      .raw();
  }

  page(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][] {
    const id = this.tables.idOf(table);
    if (id === undefined) return [];
    const keys = this.keys.all(id, afterPkKey ?? '', maxRows);
    if (keys.length === 0) return [];
    const pks = new PkDecoder();
    const rows: StoredCell[][] = [];
    let current: StoredCell[] = [];
    for (const r of this.fragments.all(id, keys[0]!, keys[keys.length - 1]!)) {
      if (current.length > 0 && current[0]!.pkKey !== r[2]) {
        rows.push(current);
        current = [];
      }
      for (const c of fragmentCells(r, this.tables, pks)) current.push(c);
    }
    if (current.length > 0) rows.push(current);
    for (const row of rows) row.sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
    return rows;
  }
}
