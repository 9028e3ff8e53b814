import type { HLC } from '../clock/hlc.js';
import type { SiteId } from '../clock/site-id.js';

/** A cell value, pk component or before-image entry (PROTOCOL.md §1.3). */
export type SqlValue = null | string | number | boolean | bigint | Uint8Array | JsonValue;
export type JsonValue = null | string | number | boolean | JsonValue[] | { [key: string]: JsonValue };

export interface ColumnChange {
  readonly type: 'column';
  readonly schema: string;
  readonly table: string;
  readonly pk: readonly SqlValue[];
  readonly column: string;
  readonly value: SqlValue;
  readonly hlc: HLC;
  readonly prior?: { readonly value: SqlValue; readonly hlc: HLC };
}

export interface DeleteChange {
  readonly type: 'delete';
  readonly schema: string;
  readonly table: string;
  readonly pk: readonly SqlValue[];
  readonly hlc: HLC;
  readonly priorRow?: readonly SqlValue[];
}

export type Change = ColumnChange | DeleteChange;

export const MIGRATION_TYPES = [
  'create_table',
  'drop_table',
  'rename_table',
  'add_column',
  'drop_column',
  'alter_column',
  'add_index',
  'drop_index',
] as const;
export type MigrationType = (typeof MIGRATION_TYPES)[number];

export interface SchemaMigration {
  readonly type: MigrationType;
  readonly schema: string;
  readonly table: string;
  readonly ddl: string;
  readonly hlc: HLC;
  readonly schemaVersion: number;
  readonly fromTable?: string;
}

/** Exactly one source transaction (PROTOCOL.md §2). */
export interface ChangeSet {
  readonly siteId: SiteId;
  readonly transactionId: string;
  readonly hlc: HLC;
  readonly changes: readonly Change[];
  readonly schemaMigrations: readonly SchemaMigration[];
}

/** Counts returned by an apply (PROTOCOL.md §6.3). */
export interface ApplyResult {
  applied: number;
  skipped: number;
  conflicts: number;
  transactions: number;
  unknownTable?: boolean;
}

export interface SnapshotHeader {
  readonly type: 'header';
  readonly siteId: SiteId;
  readonly hlc: HLC;
  readonly snapshotFormat: number;
  readonly tableCount: number;
  readonly migrationCount: number;
  readonly snapshotId: string;
  /**
   * Syncord's addition: the rows (with a live cell) in the tables this stream carries, so a
   * receiver knows its progress total from the start. The reference server does not send it and
   * the reference client ignores it.
   */
  readonly rowCount?: number;
}
export interface SnapshotMigrationChunk {
  readonly type: 'schema-migration';
  readonly migration: SchemaMigration;
}
export interface SnapshotTableStart {
  readonly type: 'table-start';
  readonly schema: string;
  readonly table: string;
  readonly estimatedEntries: number;
}
export interface SnapshotColumnEntry {
  readonly pk: readonly SqlValue[];
  readonly column: string;
  readonly value: SqlValue;
  readonly hlc: HLC;
}
export interface SnapshotColumnVersions {
  readonly type: 'column-versions';
  readonly schema: string;
  readonly table: string;
  readonly entries: readonly SnapshotColumnEntry[];
}
export interface SnapshotTableEnd {
  readonly type: 'table-end';
  readonly schema: string;
  readonly table: string;
  readonly entriesWritten: number;
}
export interface SnapshotTombstoneEntry {
  readonly pk: readonly SqlValue[];
  readonly hlc: HLC;
  readonly createdAt: number;
  readonly priorRow?: readonly SqlValue[];
}
export interface SnapshotTombstones {
  readonly type: 'tombstone';
  readonly schema: string;
  readonly table: string;
  readonly entries: readonly SnapshotTombstoneEntry[];
}
export interface SnapshotFooter {
  readonly type: 'footer';
  readonly snapshotId: string;
  readonly totalTables: number;
  readonly totalEntries: number;
  readonly totalMigrations: number;
}

/** Order: header → schema-migration* → (table-start → column-versions* → table-end)* → tombstone* → footer. */
export type SnapshotChunk =
  | SnapshotHeader
  | SnapshotMigrationChunk
  | SnapshotTableStart
  | SnapshotColumnVersions
  | SnapshotTableEnd
  | SnapshotTombstones
  | SnapshotFooter;

export const SNAPSHOT_FORMAT_VERSION = 1;
export const PROTOCOL_VERSION = 1;

/** Resume point of an interrupted snapshot apply (PROTOCOL.md §5.3). */
export interface SnapshotCheckpoint {
  readonly snapshotId: string;
  /** The receiving replica's own site id. */
  readonly siteId: SiteId;
  /** The original header HLC. */
  readonly hlc: HLC;
  readonly lastTableIndex: number;
  readonly lastEntryIndex: number;
  /** `"<schema>.<table>"` of every table whose rows are durably written. */
  readonly completedTables: readonly string[];
  readonly entriesProcessed: number;
  readonly createdAt: number;
}
