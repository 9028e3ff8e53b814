// The memory store as a set of independent records, for a persistence layer kept behind it (the
// browser's IndexedDB): one record per meta key, row (its cells and tombstone together),
// migration, watermark site and outbox entry. After each committed transaction the store hands
// over the new state of every record it touched (see MemoryStoreOptions.onCommit); writing those
// in commit order keeps the persisted copy equal to a state the store really had, and `load`
// rebuilds the store from them. Records hold plain data only (strings, numbers, bigints,
// Uint8Arrays), so a structured clone stores them as they are.
import type { OutboxEntry } from './replica-api.js';
import type { SqlValue } from '../wire/types.js';
import type { StoredMigration, WatermarkRecord } from './store.js';

export interface RowRecordCell {
  readonly column: string;
  readonly value: SqlValue;
  readonly hlc: Uint8Array;
  readonly seq: number;
}

export interface RowRecordTombstone {
  readonly hlc: Uint8Array;
  readonly seq: number;
  readonly createdAt: number;
  readonly priorRow?: readonly SqlValue[];
}

export type MemoryRecord =
  | { readonly kind: 'meta'; readonly key: string; readonly value: string }
  | {
      readonly kind: 'row';
      readonly schema: string;
      readonly table: string;
      readonly pkKey: string;
      readonly pk: readonly SqlValue[];
      readonly cells: readonly RowRecordCell[];
      readonly tombstone?: RowRecordTombstone;
    }
  | { readonly kind: 'migration'; readonly migration: StoredMigration }
  | {
      readonly kind: 'watermarks';
      readonly site: Uint8Array;
      readonly records: readonly WatermarkRecord[];
      readonly floor?: Uint8Array;
    }
  | { readonly kind: 'outbox'; readonly entry: OutboxEntry }
  /** The last outbox id handed out, so ids are never reused even after every entry is gone. */
  | { readonly kind: 'outboxSeq'; readonly lastId: number };

/** One record's new state after a commit: `record` undefined means it no longer exists. */
export interface RecordWrite {
  /** Stable and unique per record: the key to store it under. */
  readonly id: string;
  readonly record: MemoryRecord | undefined;
}

export interface MemoryStoreOptions {
  /**
   * Called synchronously after every committed transaction with the records it changed (in no
   * particular order; each id once). `durable` is false for bookkeeping whose loss in a crash is
   * harmless. Not called for a transaction that threw, nor for `load`.
   */
  readonly onCommit?: (writes: RecordWrite[], durable: boolean) => void;
}

export const recordId = {
  meta: (key: string): string => JSON.stringify(['meta', key]),
  row: (tableKey: string, pkKey: string): string => JSON.stringify(['row', tableKey, pkKey]),
  migration: (migrationKey: string): string => JSON.stringify(['migration', migrationKey]),
  watermarks: (siteHex: string): string => JSON.stringify(['watermarks', siteHex]),
  outbox: (id: number): string => JSON.stringify(['outbox', id]),
  outboxSeq: JSON.stringify(['outboxSeq']),
};

/**
 * A Uint8Array that owns exactly its bytes: a structured clone of a view into a larger buffer
 * would store the whole buffer.
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
