// Snapshot producer (PROTOCOL.md §5.1–5.2, §5.4) from one consistent read of the store, so
// writes that land while a slow consumer iterates cannot tear the stream.
import { hlcFromBytes, hlcToBytes, type HLC } from '../clock/hlc.js';
import {
  SNAPSHOT_FORMAT_VERSION,
  type SchemaMigration,
  type SnapshotChunk,
  type SnapshotColumnEntry,
  type SnapshotTombstoneEntry,
} from '../wire/types.js';
import type { Engine } from './engine.js';
import { opSeqOf, sameBase } from './hlc-parts.js';
import type { SnapshotOptions } from './replica-api.js';
import type { SnapshotReader, StoredMigration, TableRef, TombstoneCursor } from './store.js';
import { noteCoverage } from './watermarks.js';

export const MAX_SNAPSHOT_CHUNK = 1000;

/** Lets other work run between chunks; setImmediate where there is one (Node), else a timer. */
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
  return new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
}

export function toSchemaMigration(m: StoredMigration): SchemaMigration {
  return {
    type: m.type,
    schema: m.schema,
    table: m.table,
    ddl: m.ddl,
    hlc: hlcFromBytes(m.hlc),
    schemaVersion: m.schemaVersion,
    ...(m.fromTable !== undefined ? { fromTable: m.fromTable } : {}),
  };
}

export function qualifiedName(t: { schema: string; table: string }): string {
  return `${t.schema}.${t.table}`;
}

function chunkSizeOf(options: SnapshotOptions | undefined): number {
  const n = options?.chunkSize ?? MAX_SNAPSHOT_CHUNK;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_SNAPSHOT_CHUNK) {
    throw new RangeError(`chunkSize must be an integer from 1 to ${MAX_SNAPSHOT_CHUNK}, got ${n}`);
  }
  return n;
}

export async function* snapshotChunks(engine: Engine, options?: SnapshotOptions): AsyncGenerator<SnapshotChunk> {
  engine.assertOpen();
  const chunkSize = chunkSizeOf(options);
  const resume = options?.resume;
  // The clock and the read are taken together, synchronously: every fact in the read is ≤ hlc.
  const reader = engine.store.openSnapshotReader();
  try {
    const hlc: HLC = resume ? resume.hlc : engine.clock.now();
    if (options?.requester && !resume) {
      // Resumed streams record nothing: their completed tables came from an older read.
      const site = options.requester;
      noteCoverage(engine, { rule: 'reply', site, hlc: hlcToBytes(hlc), covered: reader.lastSeq });
    }
    const snapshotId = resume ? resume.snapshotId : globalThis.crypto.randomUUID();
    const tables = reader.tablesWithCells();
    const migrations = reader.migrations();
    yield {
      type: 'header',
      siteId: resume ? resume.siteId : engine.siteId,
      hlc,
      snapshotFormat: SNAPSHOT_FORMAT_VERSION,
      tableCount: tables.length,
      migrationCount: migrations.length,
      snapshotId,
    };
    for (const m of migrations) yield { type: 'schema-migration', migration: toSchemaMigration(m) };

    // Column-version entries only, as the reference counts them: tombstones are not entries.
    let entries = resume?.entriesProcessed ?? 0;
    const skip = new Set(resume?.completedTables ?? []);
    for (const table of tables) {
      if (skip.has(qualifiedName(table))) continue;
      const written = yield* tableChunks(reader, table, chunkSize);
      entries += written;
    }
    yield* tombstoneChunks(reader, chunkSize);
    yield {
      type: 'footer',
      snapshotId,
      totalTables: tables.length,
      totalEntries: entries,
      totalMigrations: migrations.length,
    };
  } finally {
    reader.close();
  }
}

async function* tableChunks(
  reader: SnapshotReader,
  table: TableRef,
  chunkSize: number,
): AsyncGenerator<SnapshotChunk, number> {
  const { schema, table: name } = table;
  // The real count, from the same read as the rows: a client sums these for its progress total.
  yield { type: 'table-start', schema, table: name, estimatedEntries: reader.cellCount(table) };
  let written = 0;
  let entries: SnapshotColumnEntry[] = [];
  let after: string | undefined;
  let base: { bytes: Uint8Array; hlc: HLC } | undefined;
  for (;;) {
    const rows = reader.rowPage(table, after, chunkSize);
    for (const row of rows) {
      for (const c of row) {
        // Consecutive cells mostly share a transaction: reuse its decoded base.
        if (!base || !sameBase(base.bytes, c.hlc)) base = { bytes: c.hlc, hlc: hlcFromBytes(c.hlc) };
        const hlc = {
          wallTime: base.hlc.wallTime,
          counter: base.hlc.counter,
          siteId: base.hlc.siteId,
          opSeq: opSeqOf(c.hlc),
        };
        entries.push({ pk: c.pk, column: c.column, value: c.value, hlc });
        if (entries.length === chunkSize) {
          written += entries.length;
          await yieldToEventLoop();
          yield { type: 'column-versions', schema, table: name, entries };
          entries = [];
        }
      }
    }
    if (rows.length < chunkSize) break;
    after = rows[rows.length - 1]![0]!.pkKey;
  }
  if (entries.length > 0) {
    written += entries.length;
    await yieldToEventLoop();
    yield { type: 'column-versions', schema, table: name, entries };
  }
  yield { type: 'table-end', schema, table: name, entriesWritten: written };
  return written;
}

/** One global pass; a chunk never mixes tables, so each table's chunks stay contiguous. */
async function* tombstoneChunks(reader: SnapshotReader, chunkSize: number): AsyncGenerator<SnapshotChunk> {
  let after: TombstoneCursor | undefined;
  for (;;) {
    const page = reader.tombstonePage(after, chunkSize);
    if (page.length === 0) break;
    let i = 0;
    while (i < page.length) {
      const table = page[i]!.table;
      const entries: SnapshotTombstoneEntry[] = [];
      for (; i < page.length && page[i]!.table.key === table.key; i++) {
        const t = page[i]!;
        entries.push({
          pk: t.pk,
          hlc: hlcFromBytes(t.hlc),
          createdAt: t.createdAt,
          ...(t.priorRow ? { priorRow: t.priorRow } : {}),
        });
      }
      await yieldToEventLoop();
      yield { type: 'tombstone', schema: table.schema, table: table.table, entries };
    }
    const last = page[page.length - 1]!;
    after = { table: last.table, pkKey: last.pkKey };
    if (page.length < chunkSize) break;
  }
}
