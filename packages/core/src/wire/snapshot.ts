// Snapshot chunks and the resume checkpoint <-> JSON (PROTOCOL.md §5.2–5.3). Key order follows
// the protocol's examples so encoded chunks read like the reference's.
import { decodeHLC, encodeHLC } from '../clock/hlc.js';
import { decodeSiteId, encodeSiteId } from '../clock/site-id.js';
import {
  describeValue,
  expectArray,
  expectInteger,
  expectName,
  expectObject,
  expectString,
  fieldPath,
} from './fields.js';
import { decodeSchemaMigration, encodeSchemaMigration, type SerializedSchemaMigration } from './schema-migration.js';
import { decodeSqlValue, decodeSqlValues, encodeSqlValue, encodeSqlValues } from './sql-value.js';
import {
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotCheckpoint,
  type SnapshotChunk,
  type SnapshotColumnEntry,
  type SnapshotHeader,
  type SnapshotTombstoneEntry,
} from './types.js';
import { WireError } from './wire-error.js';

export interface SerializedSnapshotHeader {
  type: 'header';
  siteId: string;
  hlc: string;
  snapshotFormat: number;
  tableCount: number;
  migrationCount: number;
  snapshotId: string;
  rowCount?: number;
}
export interface SerializedSnapshotMigration {
  type: 'schema-migration';
  migration: SerializedSchemaMigration;
}
export interface SerializedSnapshotTableStart {
  type: 'table-start';
  schema: string;
  table: string;
  estimatedEntries: number;
}
export interface SerializedSnapshotColumnEntry {
  column: string;
  hlc: string;
  value: unknown;
  pk: unknown[];
}
export interface SerializedSnapshotColumnVersions {
  type: 'column-versions';
  schema: string;
  table: string;
  entries: SerializedSnapshotColumnEntry[];
}
export interface SerializedSnapshotTableEnd {
  type: 'table-end';
  schema: string;
  table: string;
  entriesWritten: number;
}
export interface SerializedSnapshotTombstoneEntry {
  pk: unknown[];
  hlc: string;
  createdAt: number;
  priorRow?: unknown[];
}
export interface SerializedSnapshotTombstones {
  type: 'tombstone';
  schema: string;
  table: string;
  entries: SerializedSnapshotTombstoneEntry[];
}
export interface SerializedSnapshotFooter {
  type: 'footer';
  snapshotId: string;
  totalTables: number;
  totalEntries: number;
  totalMigrations: number;
}
export type SerializedSnapshotChunk =
  | SerializedSnapshotHeader
  | SerializedSnapshotMigration
  | SerializedSnapshotTableStart
  | SerializedSnapshotColumnVersions
  | SerializedSnapshotTableEnd
  | SerializedSnapshotTombstones
  | SerializedSnapshotFooter;

export interface SerializedSnapshotCheckpoint {
  snapshotId: string;
  siteId: string;
  hlc: string;
  lastTableIndex: number;
  lastEntryIndex: number;
  completedTables: string[];
  entriesProcessed: number;
  createdAt: number;
}

export function encodeSnapshotChunk(c: SnapshotChunk): SerializedSnapshotChunk {
  switch (c.type) {
    case 'header':
      return {
        type: 'header',
        siteId: encodeSiteId(c.siteId),
        hlc: encodeHLC(c.hlc),
        snapshotFormat: c.snapshotFormat,
        tableCount: c.tableCount,
        migrationCount: c.migrationCount,
        snapshotId: c.snapshotId,
        ...(c.rowCount !== undefined ? { rowCount: c.rowCount } : {}),
      };
    case 'schema-migration':
      return { type: 'schema-migration', migration: encodeSchemaMigration(c.migration) };
    case 'table-start':
      return { type: 'table-start', schema: c.schema, table: c.table, estimatedEntries: c.estimatedEntries };
    case 'column-versions':
      return {
        type: 'column-versions',
        schema: c.schema,
        table: c.table,
        entries: c.entries.map((e) => ({
          column: e.column,
          hlc: encodeHLC(e.hlc),
          value: encodeSqlValue(e.value),
          pk: encodeSqlValues(e.pk),
        })),
      };
    case 'table-end':
      return { type: 'table-end', schema: c.schema, table: c.table, entriesWritten: c.entriesWritten };
    case 'tombstone':
      return {
        type: 'tombstone',
        schema: c.schema,
        table: c.table,
        entries: c.entries.map((e) => {
          const out: SerializedSnapshotTombstoneEntry = {
            pk: encodeSqlValues(e.pk),
            hlc: encodeHLC(e.hlc),
            createdAt: e.createdAt,
          };
          if (e.priorRow) out.priorRow = encodeSqlValues(e.priorRow);
          return out;
        }),
      };
    case 'footer':
      return {
        type: 'footer',
        snapshotId: c.snapshotId,
        totalTables: c.totalTables,
        totalEntries: c.totalEntries,
        totalMigrations: c.totalMigrations,
      };
  }
}

/**
 * Validates one chunk. The header's `snapshotFormat` must be a number but any number decodes:
 * the consumer decides what a mismatch means, with assertSnapshotFormat, before touching state.
 */
export function decodeSnapshotChunk(json: unknown, what = 'chunk'): SnapshotChunk {
  const o = expectObject(json, what);
  const type = expectString(o['type'], fieldPath(what, 'type'));
  const str = (key: string): string => expectString(o[key], fieldPath(what, key), { nonEmpty: true });
  const count = (key: string): number => expectInteger(o[key], fieldPath(what, key));
  const name = (key: string): string => expectName(o[key], fieldPath(what, key));
  switch (type) {
    case 'header': {
      const snapshotFormat = o['snapshotFormat'];
      if (typeof snapshotFormat !== 'number' || !Number.isFinite(snapshotFormat)) {
        throw new WireError(`${fieldPath(what, 'snapshotFormat')} must be a number`);
      }
      return {
        type,
        siteId: decodeSiteId(o['siteId'], fieldPath(what, 'siteId')),
        hlc: decodeHLC(o['hlc'], fieldPath(what, 'hlc')),
        snapshotFormat,
        tableCount: count('tableCount'),
        migrationCount: count('migrationCount'),
        snapshotId: str('snapshotId'),
        ...(o['rowCount'] !== undefined ? { rowCount: count('rowCount') } : {}),
      };
    }
    case 'schema-migration':
      return { type, migration: decodeSchemaMigration(o['migration'], fieldPath(what, 'migration')) };
    case 'table-start':
      return { type, schema: name('schema'), table: name('table'), estimatedEntries: count('estimatedEntries') };
    case 'column-versions': {
      const path = fieldPath(what, 'entries');
      const entries = expectArray(o['entries'], path).map((e, i) => decodeColumnEntry(e, `${path}[${i}]`));
      return { type, schema: name('schema'), table: name('table'), entries };
    }
    case 'table-end':
      return { type, schema: name('schema'), table: name('table'), entriesWritten: count('entriesWritten') };
    case 'tombstone': {
      const path = fieldPath(what, 'entries');
      const entries = expectArray(o['entries'], path).map((e, i) => decodeTombstoneEntry(e, `${path}[${i}]`));
      return { type, schema: name('schema'), table: name('table'), entries };
    }
    case 'footer':
      return {
        type,
        snapshotId: str('snapshotId'),
        totalTables: count('totalTables'),
        totalEntries: count('totalEntries'),
        totalMigrations: count('totalMigrations'),
      };
    default:
      throw new WireError(`${fieldPath(what, 'type')} is not a snapshot chunk type: ${describeValue(type)}`);
  }
}

function decodeColumnEntry(json: unknown, what: string): SnapshotColumnEntry {
  const o = expectObject(json, what);
  if (o['value'] === undefined) throw new WireError(`${fieldPath(what, 'value')} is required`);
  return {
    pk: decodeSqlValues(o['pk'], fieldPath(what, 'pk')),
    column: expectName(o['column'], fieldPath(what, 'column')),
    value: decodeSqlValue(o['value'], fieldPath(what, 'value')),
    hlc: decodeHLC(o['hlc'], fieldPath(what, 'hlc')),
  };
}

function decodeTombstoneEntry(json: unknown, what: string): SnapshotTombstoneEntry {
  const o = expectObject(json, what);
  const priorRow =
    o['priorRow'] === undefined ? undefined : decodeSqlValues(o['priorRow'], fieldPath(what, 'priorRow'));
  return {
    pk: decodeSqlValues(o['pk'], fieldPath(what, 'pk')),
    hlc: decodeHLC(o['hlc'], fieldPath(what, 'hlc')),
    createdAt: expectInteger(o['createdAt'], fieldPath(what, 'createdAt')),
    ...(priorRow ? { priorRow } : {}),
  };
}

/** Throws before any state is touched when the header speaks another snapshot format (§8). */
export function assertSnapshotFormat(header: Pick<SnapshotHeader, 'snapshotFormat'>): void {
  if (header.snapshotFormat !== SNAPSHOT_FORMAT_VERSION) {
    throw new WireError(
      `Unsupported snapshot format ${header.snapshotFormat} (this replica reads format ${SNAPSHOT_FORMAT_VERSION})`,
    );
  }
}

export function encodeCheckpoint(cp: SnapshotCheckpoint): SerializedSnapshotCheckpoint {
  return {
    snapshotId: cp.snapshotId,
    siteId: encodeSiteId(cp.siteId),
    hlc: encodeHLC(cp.hlc),
    lastTableIndex: cp.lastTableIndex,
    lastEntryIndex: cp.lastEntryIndex,
    completedTables: [...cp.completedTables],
    entriesProcessed: cp.entriesProcessed,
    createdAt: cp.createdAt,
  };
}

/**
 * Validates a resume checkpoint. The server ignores the two indexes and `createdAt` (§5.4), so
 * those accept any integer, including a -1 "nothing yet" marker.
 */
export function decodeCheckpoint(json: unknown, what = 'checkpoint'): SnapshotCheckpoint {
  const o = expectObject(json, what);
  const anyInt = (key: string): number => expectInteger(o[key], fieldPath(what, key), Number.MIN_SAFE_INTEGER);
  const tablesPath = fieldPath(what, 'completedTables');
  return {
    snapshotId: expectString(o['snapshotId'], fieldPath(what, 'snapshotId'), { nonEmpty: true }),
    siteId: decodeSiteId(o['siteId'], fieldPath(what, 'siteId')),
    hlc: decodeHLC(o['hlc'], fieldPath(what, 'hlc')),
    lastTableIndex: anyInt('lastTableIndex'),
    lastEntryIndex: anyInt('lastEntryIndex'),
    completedTables: expectArray(o['completedTables'], tablesPath).map((t, i) => expectName(t, `${tablesPath}[${i}]`)),
    entriesProcessed: expectInteger(o['entriesProcessed'], fieldPath(what, 'entriesProcessed')),
    createdAt: anyInt('createdAt'),
  };
}
