// Rows of one table in pk-key order, a page at a time, each row's cells sorted by column: what
// listRows and the snapshot producer read. Paging by key keeps no statement open between pages.
import type Database from 'better-sqlite3';
import { fromHex } from '../clock/bytes.js';
import type { StoredCell, TableRef } from '../replica/store.js';
import { hlcOf } from '../replica/hlc-parts.js';
import { decodeSqlValue, decodeSqlValues } from '../wire/sql-value.js';
import type { TableDirectory } from './rows.js';

/** [seq, table id, pk, base hex, [column, opSeq, …], [value, …], pk key] */
type PageRow = [number, number, unknown, string, (string | number)[], unknown[], string];

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
    // One JSON text per page (see fact-scan.ts for why): [seq, tbl, pk, base hex, meta, vals, pk key].
    this.fragments = db
      .prepare<[number, string, string], string>(
        `SELECT '[' || coalesce(group_concat(format('[%d,%d,%s,"%s",%s,%s,%s]', seq, tbl, coalesce(pkx, pk),
           hex(base), meta, vals, json_quote(pk)), ','), '') || ']'
         FROM (SELECT * FROM cells WHERE tbl = ? AND pk >= ? AND pk <= ? ORDER BY pk, seq)`,
      )
      .pluck();
  }

  page(table: TableRef, afterPkKey: string | undefined, maxRows: number): StoredCell[][] {
    const id = this.tables.idOf(table);
    if (id === undefined) return [];
    const keys = this.keys.all(id, afterPkKey ?? '', maxRows);
    if (keys.length === 0) return [];
    const rows: StoredCell[][] = [];
    let current: StoredCell[] = [];
    const page = JSON.parse(this.fragments.get(id, keys[0]!, keys[keys.length - 1]!)!) as PageRow[];
    page.sort((a, b) => (a[6] < b[6] ? -1 : a[6] > b[6] ? 1 : a[0] - b[0]));
    // A transaction's fragments are usually neighbours: decode its base once.
    let baseHex = '';
    let base: Uint8Array = new Uint8Array(0);
    for (const r of page) {
      if (current.length > 0 && current[0]!.pkKey !== r[6]) {
        rows.push(current);
        current = [];
      }
      const table = this.tables.refOf(r[1]);
      const pk = decodeSqlValues(r[2], 'stored pk');
      if (r[3] !== baseHex) {
        baseHex = r[3];
        base = fromHex(baseHex);
      }
      const meta = r[4];
      for (let i = 0, j = 0; i < meta.length; i += 2, j++) {
        const value = decodeSqlValue(r[5][j], 'stored value');
        const hlc = hlcOf(base, meta[i + 1] as number);
        current.push({ table, pkKey: r[6], pk, column: meta[i] as string, value, hlc, seq: r[0] });
      }
    }
    if (current.length > 0) rows.push(current);
    for (const row of rows) row.sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0));
    return rows;
  }
}
