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
import type { SnapshotReader, StoredCell, StoredMigration, TableRef, TombstoneCursor } from './store.js';
import { encodeSnapshotChunk } from '../wire/snapshot.js';
import { encodeSqlValue } from '../wire/sql-value.js';
import { StreamEncoder } from '../wire/stream-encoder.js';
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

/**
 * How a stream's chunks come out: as SnapshotChunk objects, or as their wire text. Every chunk
 * but the entries of a table goes through `chunk`; those (the bulk) through `cells`, from the
 * stored cells, so the text form never builds the decoded entries it would only encode again.
 */
interface ChunkForm<T> {
  chunk(c: SnapshotChunk): T;
  cells(schema: string, table: string, cells: readonly StoredCell[]): T;
}

class ObjectForm implements ChunkForm<SnapshotChunk> {
  private base: { bytes: Uint8Array; hlc: HLC } | undefined;

  chunk(c: SnapshotChunk): SnapshotChunk {
    return c;
  }

  cells(schema: string, table: string, cells: readonly StoredCell[]): SnapshotChunk {
    const entries: SnapshotColumnEntry[] = cells.map((c) => {
      // Consecutive cells mostly share a transaction: reuse its decoded base.
      if (!this.base || !sameBase(this.base.bytes, c.hlc)) this.base = { bytes: c.hlc, hlc: hlcFromBytes(c.hlc) };
      const { wallTime, counter, siteId } = this.base.hlc;
      return { pk: c.pk, column: c.column, value: c.value, hlc: { wallTime, counter, siteId, opSeq: opSeqOf(c.hlc) } };
    });
    return { type: 'column-versions', schema, table, entries };
  }
}

/** JSON.stringify(encodeSnapshotChunk(chunk)) of each chunk. */
class JsonForm implements ChunkForm<string> {
  private readonly w = new StreamEncoder();

  chunk(c: SnapshotChunk): string {
    return JSON.stringify(encodeSnapshotChunk(c));
  }

  cells(schema: string, table: string, cells: readonly StoredCell[]): string {
    const w = this.w;
    const entries = cells.map((c) => ({
      column: c.column,
      hlc: w.hlcOfBytes(c.hlc),
      value: encodeSqlValue(c.value),
      pk: w.pkOf(c.pk),
    }));
    return JSON.stringify({ type: 'column-versions', schema, table, entries });
  }
}

export function snapshotChunks(engine: Engine, options?: SnapshotOptions): AsyncGenerator<SnapshotChunk> {
  return snapshotStream(engine, options, new ObjectForm());
}

/** The same stream as wire text, one JSON text per chunk (what a server sends). */
export function snapshotChunksJson(engine: Engine, options?: SnapshotOptions): AsyncGenerator<string> {
  return snapshotStream(engine, options, new JsonForm());
}

async function* snapshotStream<T>(
  engine: Engine,
  options: SnapshotOptions | undefined,
  form: ChunkForm<T>,
): AsyncGenerator<T> {
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
    const skip = new Set(resume?.completedTables ?? []);
    const streamed = tables.filter((t) => !skip.has(qualifiedName(t)));
    let rowCount = 0;
    for (const table of streamed) rowCount += reader.rowCount(table);
    yield form.chunk({
      type: 'header',
      siteId: resume ? resume.siteId : engine.siteId,
      hlc,
      snapshotFormat: SNAPSHOT_FORMAT_VERSION,
      tableCount: tables.length,
      migrationCount: migrations.length,
      snapshotId,
      rowCount,
    });
    for (const m of migrations) yield form.chunk({ type: 'schema-migration', migration: toSchemaMigration(m) });

    // Column-version entries only, as the reference counts them: tombstones are not entries.
    let entries = resume?.entriesProcessed ?? 0;
    for (const table of streamed) {
      const written = yield* tableChunks(reader, table, chunkSize, form);
      entries += written;
    }
    for await (const chunk of tombstoneChunks(reader, chunkSize)) yield form.chunk(chunk);
    yield form.chunk({
      type: 'footer',
      snapshotId,
      totalTables: tables.length,
      totalEntries: entries,
      totalMigrations: migrations.length,
    });
  } finally {
    reader.close();
  }
}

async function* tableChunks<T>(
  reader: SnapshotReader,
  table: TableRef,
  chunkSize: number,
  form: ChunkForm<T>,
): AsyncGenerator<T, number> {
  const { schema, table: name } = table;
  // The real count, from the same read as the rows: a client sums these for its progress total.
  yield form.chunk({ type: 'table-start', schema, table: name, estimatedEntries: reader.cellCount(table) });
  let written = 0;
  let cells: StoredCell[] = [];
  let after: string | undefined;
  for (;;) {
    const rows = reader.rowPage(table, after, chunkSize);
    for (const row of rows) {
      for (const c of row) {
        cells.push(c);
        if (cells.length === chunkSize) {
          written += cells.length;
          await yieldToEventLoop();
          yield form.cells(schema, name, cells);
          cells = [];
        }
      }
    }
    if (rows.length < chunkSize) break;
    after = rows[rows.length - 1]![0]!.pkKey;
  }
  if (cells.length > 0) {
    written += cells.length;
    await yieldToEventLoop();
    yield form.cells(schema, name, cells);
  }
  yield form.chunk({ type: 'table-end', schema, table: name, entriesWritten: written });
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
