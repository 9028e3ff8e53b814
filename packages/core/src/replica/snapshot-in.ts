// Snapshot consumer (PROTOCOL.md §5.2 consumer facts, §5.3–5.4). Entries go through the same
// merge rules as change sets, so a snapshot that races with live changes still converges.
import { checkDrift } from '../clock/hybrid-clock.js';
import { assertSnapshotFormat, decodeCheckpoint, encodeCheckpoint } from '../wire/snapshot.js';
import { sqlValuesEqual } from '../wire/sql-value.js';
import type {
  ColumnChange,
  DeleteChange,
  SnapshotCheckpoint,
  SnapshotChunk,
  SnapshotHeader,
  SqlValue,
} from '../wire/types.js';
import { WireError } from '../wire/wire-error.js';
import { META, type Engine } from './engine.js';
import { mergeData, mergeMigrations, TableRefs, type MergeCounts } from './merge.js';
import type { SnapshotApplyOptions } from './replica-api.js';
import { qualifiedName } from './snapshot-out.js';
import type { TableRef } from './store.js';

export function readCheckpoint(engine: Engine): SnapshotCheckpoint | undefined {
  const text = engine.store.getMeta(META.checkpoint);
  return text === undefined ? undefined : decodeCheckpoint(JSON.parse(text), 'stored checkpoint');
}

class SnapshotApply {
  private readonly tables = new TableRefs();
  private readonly completed: string[];
  private tableIndex = -1;
  private entryIndex = 0;
  /** Column-version entries, as the producer's counts go (tombstones are not entries). */
  private entriesProcessed: number;
  /** Known so far: the resumed count plus every table-start's estimate (0 from the reference). */
  private totalEntries: number;
  private tablesProcessed = 0;
  /** A table section lists each row's cells together, so a row starts where the pk changes. */
  private rowsReceived = 0;
  private lastRow: readonly SqlValue[] | undefined;
  private current: TableRef | undefined;
  private readonly counts: MergeCounts = { applied: 0, skipped: 0, conflicts: 0 };
  done = false;

  constructor(
    private readonly engine: Engine,
    private readonly header: SnapshotHeader,
    private readonly options: SnapshotApplyOptions | undefined,
  ) {
    const prior = readCheckpoint(engine);
    const same = prior?.snapshotId === header.snapshotId ? prior : undefined;
    this.completed = [...(same?.completedTables ?? [])];
    this.entriesProcessed = same?.entriesProcessed ?? 0;
    this.totalEntries = this.entriesProcessed;
    const keep = new Set(this.completed);
    this.commit(() => engine.store.clearForSnapshot((t) => keep.has(qualifiedName(t))));
    this.report();
  }

  /** Writes one step and the checkpoint in the same transaction, then reports it. */
  private commit(step: () => void): void {
    const checkpoint: SnapshotCheckpoint = {
      snapshotId: this.header.snapshotId,
      siteId: this.engine.siteId,
      hlc: this.header.hlc,
      lastTableIndex: this.tableIndex,
      lastEntryIndex: this.entryIndex,
      completedTables: [...this.completed],
      entriesProcessed: this.entriesProcessed,
      createdAt: this.engine.now(),
    };
    // Chunk commits need not be synced: a crash keeps a prefix of them, each with its matching
    // checkpoint, so a resume starts from what survived. The footer's commit is the synced one.
    this.engine.write(
      () => {
        step();
        this.engine.store.setMeta(META.checkpoint, JSON.stringify(encodeCheckpoint(checkpoint)));
      },
      { durable: false },
    );
    this.options?.onCheckpoint?.(checkpoint);
  }

  private inTable(chunk: { schema: string; table: string }): TableRef {
    const t = this.current;
    if (!t || t.schema !== chunk.schema || t.table !== chunk.table) {
      throw new WireError(`snapshot chunk for ${qualifiedName(chunk)} outside its table section`);
    }
    return t;
  }

  handle(chunk: SnapshotChunk): void {
    const { engine } = this;
    switch (chunk.type) {
      case 'header':
        throw new WireError('snapshot stream holds a second header');
      case 'schema-migration':
        engine.write(() => mergeMigrations(engine, [chunk.migration], this.counts), { durable: false });
        break;
      case 'table-start':
        if (this.current) throw new WireError(`table-start for ${qualifiedName(chunk)} inside another table`);
        this.current = this.tables.get(chunk.schema, chunk.table);
        this.tableIndex++;
        this.entryIndex = 0;
        this.lastRow = undefined;
        this.totalEntries += chunk.estimatedEntries;
        break;
      case 'column-versions': {
        const { schema, table } = this.inTable(chunk);
        const changes = chunk.entries.map((e): ColumnChange => ({
          type: 'column',
          schema,
          table,
          pk: e.pk,
          column: e.column,
          value: e.value,
          hlc: e.hlc,
        }));
        for (const e of chunk.entries) {
          if (!this.lastRow || !samePk(this.lastRow, e.pk)) this.rowsReceived++;
          this.lastRow = e.pk;
        }
        this.entryIndex += changes.length;
        this.entriesProcessed += changes.length;
        this.commit(() => mergeData(engine, changes, this.counts, false, this.tables));
        break;
      }
      case 'table-end':
        this.inTable(chunk);
        this.current = undefined;
        this.tablesProcessed++;
        // Listed only now, when every row of the table is durably written.
        this.completed.push(qualifiedName(chunk));
        this.commit(() => {});
        break;
      case 'tombstone': {
        if (this.current) throw new WireError('tombstone chunk inside a table section');
        const { schema, table } = chunk;
        const deletes = chunk.entries.map((e): DeleteChange => ({
          type: 'delete',
          schema,
          table,
          pk: e.pk,
          hlc: e.hlc,
          ...(e.priorRow ? { priorRow: e.priorRow } : {}),
        }));
        this.commit(() => mergeData(engine, deletes, this.counts, false, this.tables));
        break;
      }
      case 'footer':
        if (this.current) throw new WireError('snapshot footer inside a table section');
        engine.write(() => {
          engine.clock.receive(this.header.hlc);
          engine.store.deleteMeta(META.checkpoint);
        });
        this.done = true;
        this.totalEntries = chunk.totalEntries;
        break;
    }
    this.report();
  }

  private report(): void {
    const { rowCount } = this.header;
    this.options?.onProgress?.({
      tablesProcessed: this.tablesProcessed,
      totalTables: this.header.tableCount,
      entriesProcessed: this.entriesProcessed,
      totalEntries: this.totalEntries,
      ...(this.current ? { currentTable: qualifiedName(this.current) } : {}),
      rowsReceived: this.rowsReceived,
      ...(rowCount !== undefined ? { rowsTotal: rowCount } : {}),
    });
  }
}

export async function applySnapshotChunks(
  engine: Engine,
  chunks: AsyncIterable<SnapshotChunk> | Iterable<SnapshotChunk>,
  options?: SnapshotApplyOptions,
): Promise<void> {
  engine.assertOpen();
  let apply: SnapshotApply | undefined;
  for await (const chunk of chunks) {
    if (apply?.done) throw new WireError('snapshot chunk after the footer');
    if (apply) {
      apply.handle(chunk);
      continue;
    }
    if (chunk.type !== 'header') throw new WireError(`snapshot stream must start with a header, got ${chunk.type}`);
    // Both checks come before any state is touched (§5.2, §7).
    assertSnapshotFormat(chunk);
    checkDrift(chunk.hlc.wallTime, engine.now());
    apply = new SnapshotApply(engine, chunk, options);
  }
  if (!apply?.done) throw new WireError('snapshot stream ended before its footer');
}

/** Same row key; `===` settles the usual case without the general comparison. */
function samePk(a: readonly SqlValue[], b: readonly SqlValue[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !sqlValuesEqual(a[i]!, b[i]!)) return false;
  return true;
}
