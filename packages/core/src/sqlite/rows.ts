// Row shapes shared by the store and its snapshot reader: the table directory (integer ids for
// (schema, table)) and the decoding of raw result rows into stored facts.
import type Database from 'better-sqlite3';
import {
  tableRef,
  type StoredCell,
  type StoredMigration,
  type StoredTombstone,
  type TableRef,
} from '../replica/store.js';
import { decodeSqlValues } from '../wire/sql-value.js';
import type { MigrationType, SqlValue } from '../wire/types.js';
import { parseMeta, parseVals } from './fragments.js';
import { hlcOf } from '../replica/hlc-parts.js';

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

/** Buffers from better-sqlite3 become plain Uint8Arrays (a view, no copy). */
export function asBytes(b: unknown): Uint8Array {
  const buf = b as Uint8Array;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

export const FRAGMENT_COLUMNS = 'seq, tbl, pk, pkx, base, meta, vals';
export type FragmentRow = [number, number, string, string | null, Uint8Array, string, string];

/** The cells of one fragment row. */
export function fragmentCells(r: FragmentRow, tables: TableDirectory, pks: PkDecoder): StoredCell[] {
  const meta = parseMeta(r[5]);
  const values = parseVals(r[6]);
  const base = asBytes(r[4]);
  const table = tables.refOf(r[1]);
  const pk = pks.decode(r[2], r[3]);
  return meta.map((m, i) => ({
    table,
    pkKey: r[2],
    pk,
    column: m.column,
    value: values[i]!,
    hlc: hlcOf(base, m.opSeq),
    seq: r[0],
  }));
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
