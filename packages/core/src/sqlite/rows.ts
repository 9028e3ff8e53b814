// Row shapes shared by the store and its snapshot reader: the table directory (integer ids for
// (schema, table)) and the decoding of raw result rows into stored facts.
import type Database from 'better-sqlite3';
import {
  tableRef,
  type StoredCell,
  type StoredFact,
  type StoredMigration,
  type StoredTombstone,
  type TableRef,
} from '../replica/store.js';
import { decodeSqlValues } from '../wire/sql-value.js';
import type { MigrationType, SqlValue } from '../wire/types.js';
import { asBytes, loadValue } from './value-codec.js';

/** (schema, table) ↔ integer id, cached; fact rows carry the id, not the names. */
export class TableDirectory {
  private readonly byKey = new Map<string, number>();
  private readonly byId = new Map<number, TableRef>();
  private readonly all: Database.Statement<[], [number, string, string]>;

  constructor(db: Database.Database) {
    this.all = db.prepare<[], [number, string, string]>('SELECT id, schema, name FROM tables').raw();
    this.reload();
  }

  reload(): void {
    this.byKey.clear();
    this.byId.clear();
    for (const [id, schema, name] of this.all.all()) this.remember(tableRef(schema, name), id);
  }

  remember(ref: TableRef, id: number): void {
    this.byKey.set(ref.key, id);
    this.byId.set(id, ref);
  }

  idOf(ref: TableRef): number | undefined {
    return this.byKey.get(ref.key);
  }

  refOf(id: number): TableRef {
    let ref = this.byId.get(id);
    if (!ref) {
      this.reload();
      ref = this.byId.get(id);
      if (!ref) throw new Error(`Replica store names an unknown table id ${id}`);
    }
    return ref;
  }

  refs(): TableRef[] {
    return [...this.byId.values()];
  }
}

/** Decodes pk text, reusing the previous result: consecutive facts usually share a row. */
export class PkDecoder {
  private lastText: string | undefined;
  private last: SqlValue[] = [];
  decode(key: string, exact: string | null): SqlValue[] {
    const text = exact ?? key;
    if (text !== this.lastText) {
      this.last = decodeSqlValues(JSON.parse(text), 'stored pk');
      this.lastText = text;
    }
    return this.last;
  }
}

export function decodeRowText(text: string | null): SqlValue[] | undefined {
  return text === null ? undefined : decodeSqlValues(JSON.parse(text), 'stored priorRow');
}

export const CELL_COLUMNS = 'seq, tbl, pk, pkx, col, v, vt, hlc';
export type CellRow = [number, number, string, string | null, string, unknown, number | null, Uint8Array];

export function toCell(r: CellRow, tables: TableDirectory, pks: PkDecoder): StoredCell {
  return {
    table: tables.refOf(r[1]),
    pkKey: r[2],
    pk: pks.decode(r[2], r[3]),
    column: r[4],
    value: loadValue(r[5], r[6]),
    hlc: asBytes(r[7]),
    seq: r[0],
  };
}

export const TOMBSTONE_COLUMNS = 'seq, tbl, pk, pkx, hlc, created, prior';
export type TombstoneRow = [number, number, string, string | null, Uint8Array, number, string | null];

export function toTombstone(r: TombstoneRow, tables: TableDirectory, pks: PkDecoder): StoredTombstone {
  const priorRow = decodeRowText(r[6]);
  return {
    table: tables.refOf(r[1]),
    pkKey: r[2],
    pk: pks.decode(r[2], r[3]),
    hlc: asBytes(r[4]),
    seq: r[0],
    createdAt: r[5],
    ...(priorRow ? { priorRow } : {}),
  };
}

/** Cells and tombstones in one result: kind 0 = cell, 1 = tombstone. */
export const FACT_SELECT = {
  cells: `SELECT 0, seq, tbl, pk, pkx, col, v, vt, hlc, NULL, NULL FROM cells`,
  tombstones: `SELECT 1, seq, tbl, pk, pkx, NULL, NULL, NULL, hlc, created, prior FROM tombstones`,
};
export type FactRow = [
  0 | 1,
  number,
  number,
  string,
  string | null,
  string | null,
  unknown,
  number | null,
  Uint8Array,
  number | null,
  string | null,
];

export function toFact(r: FactRow, tables: TableDirectory, pks: PkDecoder): StoredFact {
  const table = tables.refOf(r[2]);
  const pk = pks.decode(r[3], r[4]);
  const hlc = asBytes(r[8]);
  if (r[0] === 0) {
    return { kind: 'cell', table, pkKey: r[3], pk, column: r[5]!, value: loadValue(r[6], r[7]), hlc, seq: r[1] };
  }
  const priorRow = decodeRowText(r[10]);
  return {
    kind: 'tombstone',
    table,
    pkKey: r[3],
    pk,
    hlc,
    seq: r[1],
    createdAt: r[9]!,
    ...(priorRow ? { priorRow } : {}),
  };
}

export const MIGRATION_COLUMNS = 'seq, schema, kind, name, version, type, ddl, hlc, from_table';
export type MigrationRow = [
  number,
  string,
  'table' | 'index',
  string,
  number,
  MigrationType,
  string,
  Uint8Array,
  string | null,
];

export function toMigration(r: MigrationRow): StoredMigration {
  return {
    seq: r[0],
    schema: r[1],
    kind: r[2],
    table: r[3],
    schemaVersion: r[4],
    type: r[5],
    ddl: r[6],
    hlc: asBytes(r[7]),
    ...(r[8] !== null ? { fromTable: r[8] } : {}),
  };
}
