// SchemaMigration <-> JSON (PROTOCOL.md §2): DDL carried alongside data changes.
import { decodeHLC, encodeHLC } from '../clock/hlc.js';
import {
  describeValue,
  expectInteger,
  expectName,
  expectObject,
  expectString,
  expectWellFormedString,
  fieldPath,
  optionalName,
} from './fields.js';
import { MIGRATION_TYPES, type MigrationType, type SchemaMigration } from './types.js';
import { WireError } from './wire-error.js';

export interface SerializedSchemaMigration {
  type: MigrationType;
  schema: string;
  table: string;
  ddl: string;
  hlc: string;
  schemaVersion: number;
  /** Only for `rename_table`: the name before the rename. */
  fromTable?: string;
}

const MIGRATION_TYPE_SET: ReadonlySet<string> = new Set(MIGRATION_TYPES);

export function encodeSchemaMigration(m: SchemaMigration): SerializedSchemaMigration {
  const out: SerializedSchemaMigration = {
    type: m.type,
    schema: m.schema,
    table: m.table,
    ddl: m.ddl,
    hlc: encodeHLC(m.hlc),
    schemaVersion: m.schemaVersion,
  };
  if (m.fromTable !== undefined) out.fromTable = m.fromTable;
  return out;
}

export function decodeSchemaMigration(json: unknown, what = 'migration'): SchemaMigration {
  const o = expectObject(json, what);
  const type = expectString(o['type'], fieldPath(what, 'type'));
  if (!MIGRATION_TYPE_SET.has(type)) {
    throw new WireError(
      `${fieldPath(what, 'type')} must be one of ${MIGRATION_TYPES.join(', ')}, got ${describeValue(type)}`,
    );
  }
  const fromTable = optionalName(o['fromTable'], fieldPath(what, 'fromTable'));
  const m: SchemaMigration = {
    type: type as MigrationType,
    schema: expectName(o['schema'], fieldPath(what, 'schema')),
    table: expectName(o['table'], fieldPath(what, 'table')),
    ddl: expectWellFormedString(o['ddl'], fieldPath(what, 'ddl')),
    hlc: decodeHLC(o['hlc'], fieldPath(what, 'hlc')),
    schemaVersion: expectInteger(o['schemaVersion'], fieldPath(what, 'schemaVersion'), 1),
    ...(fromTable !== undefined ? { fromTable } : {}),
  };
  return m;
}
