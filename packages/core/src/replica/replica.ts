// The merge engine's public face: one replica of one database over a ReplicaStore. The
// coordinator (a replica that relays) and the client SDK both program against this class.
import type { HLC } from '../clock/hlc.js';
import { hlcFromBytes, hlcToBytes } from '../clock/hlc.js';
import type { SiteId } from '../clock/site-id.js';
import type {
  ApplyResult,
  Change,
  ChangeSet,
  SchemaMigration,
  SnapshotCheckpoint,
  SnapshotChunk,
  SqlValue,
} from '../wire/types.js';
import { applyChangeSets } from './apply-changes.js';
import { applyGroup } from './apply-group.js';
import { changesSince, openChangesCursor } from './changes-since.js';
import { Engine, META } from './engine.js';
import { holdsFact } from './held-facts.js';
import { commitLocalTransaction, type LocalTransaction } from './local-commit.js';
import { pkKeyOf } from './pk-key.js';
import type {
  ApplyBatch,
  ApplyOptions,
  ChangesCursor,
  DeltaSyncCheck,
  OutboxEntry,
  OutboxStats,
  GetChangesOptions,
  PrunedHorizon,
  ReplicaOptions,
  RowPage,
  SnapshotApplyOptions,
  TableCounts,
  SnapshotOptions,
} from './replica-api.js';
import { canDeltaSync, pruneTombstones } from './retention.js';
import { markRestored, prunedHorizon } from './restored.js';
import { applySnapshotChunks, readCheckpoint } from './snapshot-in.js';
import { snapshotChunks, snapshotChunksJson, toSchemaMigration } from './snapshot-out.js';
import { tableRef, type ReplicaStore, type StoredCell } from './store.js';
import { assertPk } from './validate-input.js';
import { applyCoverage, type CoverageNote } from './watermarks.js';

const LIST_PAGE_ROWS = 500;

export interface LiveRow {
  readonly pk: readonly SqlValue[];
  readonly columns: Map<string, SqlValue>;
}

function toColumns(cells: readonly StoredCell[]): Map<string, SqlValue> {
  const out = new Map<string, SqlValue>();
  for (const c of cells) out.set(c.column, c.value);
  return out;
}

export class Replica {
  private constructor(private readonly engine: Engine) {}

  /** Opens a replica over `store`, creating its site id and clock on first use. */
  static open(store: ReplicaStore, options?: ReplicaOptions): Replica {
    return new Replica(new Engine(store, options));
  }

  /** Persisted with the store: stable across close and reopen. */
  get siteId(): SiteId {
    return this.engine.siteId;
  }

  /** The current clock value, not advanced (opSeq 0). */
  clockNow(): HLC {
    return this.engine.clock.now();
  }

  /**
   * The clock as a tick would read it now (its state, or the physical time when later): an HLC
   * above this was not issued by this database yet, whichever replica of it issued it.
   */
  clockReading(): HLC {
    return this.engine.clock.reading();
  }

  /** The highest arrival sequence handed out: it grows with every fact this replica stores. */
  get lastSeq(): number {
    this.engine.assertOpen();
    return this.engine.lastSeq;
  }

  /**
   * Merges change sets (PROTOCOL.md §6.3): synchronous and all-or-nothing. With `outbox`, an
   * apply that applied something also records that callback's text in the outbox, atomically.
   */
  applyChanges(changeSets: readonly ChangeSet[], options?: ApplyOptions): ApplyResult {
    return applyChangeSets(this.engine, changeSets, options);
  }

  /**
   * Group commit: the batches in one transaction with one durable commit, each all-or-nothing on
   * its own (a savepoint each). Returns, per batch in order, its result or the error that undid it.
   * A function batch is built inside the transaction, after the earlier batches merged.
   * `durable: false` lets the commit skip the sync, for a replica whose durable copy is elsewhere
   * (a cluster node re-reads what a crash lost from the shared log).
   */
  applyGroup(
    batches: ReadonlyArray<ApplyBatch | (() => ApplyBatch)>,
    options?: { readonly durable?: boolean },
  ): Array<ApplyResult | Error> {
    return applyGroup(this.engine, batches, options);
  }

  /** The oldest `limit` outbox entries (records waiting to be shipped elsewhere, e.g. an archive). */
  outboxPeek(limit: number): OutboxEntry[] {
    this.engine.assertOpen();
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    return this.engine.store.outboxPeek(limit);
  }

  /** Removes a shipped entry (durably: once acknowledged it is never handed out again). */
  outboxAck(id: number): void {
    // Unsynced: an acknowledgement lost in a crash only means the entry is shipped again.
    this.engine.write(() => this.engine.store.outboxDelete(id), { durable: false });
  }

  outboxStats(): OutboxStats {
    this.engine.assertOpen();
    return this.engine.store.outboxStats();
  }

  /** A copy of the whole database file, consistent as of one moment, taken while it serves. */
  async backupTo(file: string): Promise<void> {
    this.engine.assertOpen();
    const { store } = this.engine;
    if (!store.backupTo) throw new Error('this replica has no file to copy (in-memory store)');
    await store.backupTo(file);
  }

  /**
   * The first page of the catch-up of `requester` from `sinceHLC`: facts above it plus late
   * arrivals below it (gap-free catch-up), bounded by `batchSize`. Page on by asking again from
   * the page's max.
   */
  getChangesSince(requester: SiteId, sinceHLC?: HLC, options?: GetChangesOptions): ChangeSet[] {
    return changesSince(this.engine, requester, sinceHLC, options);
  }

  /** The whole catch-up of `requester` from `sinceHLC`, page by page (see ChangesCursor). */
  openChangesCursor(requester: SiteId, sinceHLC?: HLC, options?: GetChangesOptions): ChangesCursor {
    return openChangesCursor(this.engine, requester, sinceHLC, options);
  }

  /** A snapshot stream from one consistent read (PROTOCOL.md §5). */
  snapshot(options?: SnapshotOptions): AsyncIterableIterator<SnapshotChunk> {
    return snapshotChunks(this.engine, options);
  }

  /**
   * The same stream as snapshot(), each chunk as its wire text (JSON.stringify of
   * encodeSnapshotChunk), written without the decoded entries: what a server forwards.
   */
  snapshotJson(options?: SnapshotOptions): AsyncIterableIterator<string> {
    return snapshotChunksJson(this.engine, options);
  }

  /** Bootstraps from a snapshot stream; an interrupted apply leaves a resumable checkpoint. */
  applySnapshot(
    chunks: AsyncIterable<SnapshotChunk> | Iterable<SnapshotChunk>,
    options?: SnapshotApplyOptions,
  ): Promise<void> {
    return applySnapshotChunks(this.engine, chunks, options);
  }

  /** Set while an applySnapshot is incomplete: the replica's data is partial. */
  pendingCheckpoint(): SnapshotCheckpoint | undefined {
    this.engine.assertOpen();
    return readCheckpoint(this.engine);
  }

  canDeltaSync(requester: SiteId, sinceHLC: HLC): DeltaSyncCheck {
    this.engine.assertOpen();
    return canDeltaSync(this.engine, requester, hlcToBytes(sinceHLC));
  }

  /** Deletes tombstones older than the horizon (and expired watermark records); returns how many. */
  pruneTombstones(horizonMs: number): number {
    return pruneTombstones(this.engine, horizonMs);
  }

  /** What retention ever pruned here; a backup records it so that a restore can honour it. */
  prunedHorizon(): PrunedHorizon {
    this.engine.assertOpen();
    return prunedHorizon(this.engine);
  }

  /**
   * Call once a restore from a backup is complete, with what the original had pruned: watermarks
   * the original handed out then get no coverage record from a reply (whoever presents them), and
   * when the original pruned (or may have) they can no longer delta-sync (see restored.ts).
   */
  markRestored(originalPruned: PrunedHorizon): void {
    markRestored(this.engine, originalPruned);
  }

  /**
   * True when the stored state already holds `fact` at the same or a newer version (for a column
   * write, also when the row's tombstone blocks it), so merging it would change nothing. Read-only.
   */
  holds(fact: Change | SchemaMigration): boolean {
    this.engine.assertOpen();
    return holdsFact(this.engine, fact);
  }

  /** Every schema migration stored (one per schema, kind, name and version: the LWW winner). */
  listMigrations(): SchemaMigration[] {
    this.engine.assertOpen();
    return this.engine.store.listMigrations().map(toSchemaMigration);
  }

  hasTable(schema: string, table: string): boolean {
    this.engine.assertOpen();
    return this.engine.store.hasTable(schema, table);
  }

  /** A local transaction: one tick, applied here and returned for the peers. */
  commitLocal(tx: LocalTransaction): ChangeSet {
    return commitLocalTransaction(this.engine, tx);
  }

  /** Applies a coverage record another replica of the same database wrote (see ReplicaOptions.onCoverage). */
  applyCoverage(note: CoverageNote): void {
    this.engine.write(() => applyCoverage(this.engine, note), { durable: false });
  }

  /** Small persisted key/value space for the embedding app (watermarks and the like). */
  getLocal(key: string): string | undefined {
    this.engine.assertOpen();
    return this.engine.store.getMeta(META.localPrefix + key);
  }

  /** `durable: false` lets the commit skip the sync (see applyGroup). */
  setLocal(key: string, value: string, options?: { readonly durable?: boolean }): void {
    if (typeof key !== 'string' || typeof value !== 'string')
      throw new TypeError('setLocal takes string key and value');
    this.engine.write(() => this.engine.store.setMeta(META.localPrefix + key, value), options);
  }

  /** Live cells of one row, or undefined when it has none. */
  readRow(schema: string, table: string, pk: readonly SqlValue[]): Map<string, SqlValue> | undefined {
    this.engine.assertOpen();
    assertPk(pk, 'pk');
    const cells = this.engine.store.rowCells(tableRef(schema, table), pkKeyOf(pk));
    return cells.length === 0 ? undefined : toColumns(cells);
  }

  /** Live rows of a table in pk-key order, read page by page (no statement stays open). */
  *listRows(schema: string, table: string): IterableIterator<LiveRow> {
    this.engine.assertOpen();
    const ref = tableRef(schema, table);
    let after: string | undefined;
    for (;;) {
      const rows = this.engine.store.rowPage(ref, after, LIST_PAGE_ROWS);
      for (const cells of rows) yield { pk: cells[0]!.pk, columns: toColumns(cells) };
      if (rows.length < LIST_PAGE_ROWS) return;
      after = rows[rows.length - 1]![0]!.pkKey;
    }
  }

  /** Every table with live cells or tombstones and its counts; counts every row, so not for hot paths. */
  tableCounts(): TableCounts[] {
    this.engine.assertOpen();
    return this.engine.store.tableStats().map(({ table, rows, cells, tombstones }) => ({
      schema: table.schema,
      table: table.table,
      rows,
      cells,
      tombstones,
    }));
  }

  /** Up to `limit` live rows of a table after the row `after` (a pkKey), in pk-key order, with cell versions. */
  readRowPage(schema: string, table: string, limit: number, after?: string): RowPage {
    this.engine.assertOpen();
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer, got ${limit}`);
    const rows = this.engine.store.rowPage(tableRef(schema, table), after, limit).map((cells) => ({
      pkKey: cells[0]!.pkKey,
      pk: cells[0]!.pk,
      cells: cells.map((c) => ({ column: c.column, value: c.value, hlc: hlcFromBytes(c.hlc), seq: c.seq })),
    }));
    return rows.length < limit ? { rows } : { rows, next: rows[rows.length - 1]!.pkKey };
  }

  close(): void {
    this.engine.close();
  }
}
