// S3 durability of every database (PROTOCOL.md §10, DESIGN.md item 7), driven by the service
// through small seams: the store manager's open and close, and the apply.
// - Batch archive: each apply with applied > 0 writes its §10.2 batch into an outbox table of the
//   database's own SQLite file, in the apply's transaction; an OutboxDrain per open database
//   uploads it later with retry and backoff. The apply never waits for S3.
// - Snapshots: on a schedule (changes or time), streamed from the engine's consistent read through
//   gzip into a multipart upload; the newest `keepSnapshots` bases are kept.
// - Restore: a database opened with no local file is rebuilt from the bucket first.
// - Closed databases: drained, and evicted from local disk when idle (ClosedDatabases).
// - In a cluster (options.shared) the log orders arrivals: batches are recorded as entries merge,
//   one node at a time holds the archiving turn, and its bases are images (shared-archive.ts).
import { existsSync } from 'node:fs';
import { encodeSiteId, type ApplyResult, type ChangeSet, type Replica, type SiteId } from '@syncord/core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CoordinatorConfig } from '../config/types.js';
import type { StoreManager, StoreManagerHooks } from '../stores/index.js';
import { ArchiveLayout, s3StoragePath } from './archive-keys.js';
import { encodeBatch } from './batch-record.js';
import { clearEvicted } from './evicted-marker.js';
import { ClosedDatabases } from './closed-databases.js';
import {
  createDurabilityMetrics,
  sumTotals,
  totalsOf,
  type DurabilityMetrics,
  type OutboxTotals,
} from './durability-metrics.js';
import { ObjectStore } from './object-store.js';
import { OutboxDrain } from './outbox-drain.js';
import { restoreDatabase, type OpenFile, type RestoreReport } from './restore.js';
import { pruneArchive } from './retention.js';
import { sharedBatchId, SharedTurn, turnTickMs, type SharedArchive } from './shared-archive.js';
import { positionedImages, prepareSharedFile, uploadSharedImage } from './shared-image.js';
import { readMark, snapshotDue, snapshotTo, writeMark, type SnapshotMark } from './snapshot-schedule.js';

export interface DurabilityOptions {
  readonly config: CoordinatorConfig;
  readonly log: Logger;
  readonly registry: Registry;
  readonly storeHooks?: StoreManagerHooks;
  /** Opens a SQLite database file (creating it with `siteId` when new). */
  readonly openFile: OpenFile;
  /** Default: a client for `config.s3`. */
  readonly store?: ObjectStore;
  readonly now?: () => number;
  /** The cluster's log, when arrivals are ordered there (absent on a single node). */
  readonly shared?: SharedArchive;
}

interface OpenDatabase {
  readonly replica: Replica;
  readonly drain: OutboxDrain;
  mark: SnapshotMark;
  snapshot?: Promise<void>;
  /** In a cluster: this node's share of archiving the database. */
  readonly turn?: SharedTurn;
  /** In a cluster: facts merged since the last snapshot (positions there are not counts). */
  factsSinceMark: number;
}

/** How often schedules and closed databases are looked at: often enough for the shortest setting. */
function tickMs(config: CoordinatorConfig, shared: SharedArchive | undefined): number {
  const shortest = Math.min(config.s3.snapshotIntervalMs, config.diskEviction.idleMs, 30_000);
  return Math.max(25, Math.min(Math.floor(shortest / 2), shared ? turnTickMs(shared.turnMs) : Infinity));
}

export class Durability {
  readonly store: ObjectStore;
  readonly metrics: DurabilityMetrics;
  private readonly open = new Map<string, OpenDatabase>();
  /** Each database's file, as the store manager named it when opening. */
  private readonly files = new Map<string, string>();
  /** What beforeClose learnt of a closing database, for afterClose (which knows its file). */
  private readonly closedInfo = new Map<string, { clean: boolean; siteId: SiteId; pending?: OutboxTotals }>();
  private readonly closedDbs: ClosedDatabases;
  private readonly log: Logger;
  private readonly now: () => number;
  /** The newest snapshot uploaded since start, of any database. */
  lastSnapshot: { readonly databaseId: string; readonly at: number } | undefined;
  private stores: StoreManager | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private stopping = false;

  constructor(private readonly options: DurabilityOptions) {
    const { config } = options;
    this.log = options.log.child({ component: 's3' });
    this.now = options.now ?? Date.now;
    this.store = options.store ?? ObjectStore.fromConfig(config.s3);
    this.metrics = createDurabilityMetrics(
      options.registry,
      () => this.outboxTotals(),
      () => [...this.open.values()].filter((db) => db.turn?.holder).length,
    );
    this.closedDbs = new ClosedDatabases({
      config,
      store: this.store,
      layoutFor: (id) => this.layoutFor(id),
      openFile: options.openFile,
      newDrain: (id, replica) => this.newDrain(id, replica),
      isOpen: (id) => this.open.has(id) || (this.stores?.isOpen(id) ?? false),
      metrics: this.metrics,
      log: this.log,
      now: this.now,
      onImage: (id) => this.prune(id),
      sharedLog: options.shared !== undefined,
    });
    options.shared?.attach({
      batchRecord: (databaseId, replica, entry) => (result) =>
        encodeBatch({
          databaseId,
          clientId: entry.clientId,
          serverSiteId: replica.siteId,
          changeSets: entry.allowed,
          result,
          time: entry.time,
          batchId: sharedBatchId(replica.siteId, entry.position),
          logSeq: entry.position,
        }),
      merged: (databaseId, applied) => this.afterMerge(databaseId, applied),
    });
  }

  /** Durability for `config`, or undefined when S3 is off (no bucket). */
  static fromConfig(options: DurabilityOptions): Durability | undefined {
    return options.config.s3.bucket === '' ? undefined : new Durability(options);
  }

  layoutFor(databaseId: string): ArchiveLayout {
    return new ArchiveLayout(
      databaseId,
      s3StoragePath(databaseId, this.options.storeHooks),
      this.options.config.s3.keyPrefix,
    );
  }

  /** Starts the schedule and looks for databases an earlier run left on disk. */
  start(stores: StoreManager): void {
    this.stores = stores;
    const found = this.closedDbs.scan(this.options.config.dataDir);
    if (found > 0) this.log.info({ databases: found }, 'closed databases found on disk: draining their outboxes');
    this.timer = setInterval(() => this.tick(), tickMs(this.options.config, this.options.shared));
    this.timer.unref();
    this.tick();
  }

  // --- store manager seams ---

  /** Before a database file is opened: waits out work on it, restores it when it is missing. */
  async prepareOpen(databaseId: string, file: string): Promise<RestoreReport | undefined> {
    await this.closedDbs.claim(databaseId);
    this.files.set(databaseId, file);
    if (this.options.shared) {
      await this.prepareShared(databaseId, file, this.options.shared);
      return undefined;
    }
    if (existsSync(file)) {
      clearEvicted(file);
      return undefined;
    }
    const report = await this.restoring(databaseId, () =>
      restoreDatabase({
        store: this.store,
        layout: this.layoutFor(databaseId),
        targetFile: file,
        openFile: this.options.openFile,
        log: this.log,
      }),
    );
    clearEvicted(file);
    if (report) {
      this.metrics.restoresTotal.inc();
      this.log.info(
        { databaseId, base: report.base?.key, batches: report.batches, siteId: encodeSiteId(report.siteId) },
        'database restored from S3',
      );
    }
    return report;
  }

  /** A restore, its failure counted and logged (the open fails; the next one tries again). */
  private async restoring<T>(databaseId: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      this.metrics.restoreFailuresTotal.inc();
      this.log.error({ databaseId, err }, 'restore from S3 failed; the next open tries again');
      throw err;
    }
  }

  private async prepareShared(databaseId: string, file: string, shared: SharedArchive): Promise<void> {
    clearEvicted(file);
    const input = {
      store: this.store,
      layout: this.layoutFor(databaseId),
      shared,
      openFile: this.options.openFile,
      log: this.log,
    };
    const image = await this.restoring(databaseId, () => prepareSharedFile(input, file));
    if (!image) return;
    this.metrics.restoresTotal.inc();
    this.log.info(
      { databaseId, image: image.key, position: image.position },
      'database restored from its newest image',
    );
  }

  opened(databaseId: string, replica: Replica): void {
    const drain = this.newDrain(databaseId, replica);
    let mark = readMark(replica);
    if (mark.at === 0) {
      // Never snapshotted: the interval runs from now (the first open), not from 1970, so a new
      // database is not snapshotted on its first write; its batches restore it meanwhile.
      mark = { at: this.now(), seq: 0 };
      writeMark(replica, mark);
    }
    const { shared } = this.options;
    const turn = shared && new SharedTurn(databaseId, replica, drain, shared, this.log, this.now);
    this.open.set(databaseId, { replica, drain, mark, factsSinceMark: 0, ...(turn ? { turn } : {}) });
    // In a cluster only the holder of the archiving turn uploads; the turn's first step decides.
    if (turn) void turn.tick();
    else drain.kick();
  }

  /** Flushes the database's outbox (bounded by s3.flushTimeoutMs) before its store closes. */
  async beforeClose(databaseId: string, replica: Replica): Promise<void> {
    const db = this.open.get(databaseId);
    if (!db || db.replica !== replica) return;
    if (db.turn) {
      // The log keeps every entry past what is archived: a record left here is made again by
      // whichever node merges the entry next, so the file needs no draining once closed.
      await db.turn.close(this.options.config.s3.flushTimeoutMs);
      this.open.delete(databaseId);
      this.closedInfo.set(databaseId, { clean: true, siteId: replica.siteId });
      return;
    }
    const flushed = await db.drain.flush(this.options.config.s3.flushTimeoutMs);
    await db.drain.stop();
    this.open.delete(databaseId);
    const stats = replica.outboxStats();
    if (!flushed)
      this.log.warn({ databaseId, waiting: stats.count }, 'closing with batches not yet in S3 (kept in the outbox)');
    this.closedInfo.set(databaseId, {
      clean: stats.count === 0,
      siteId: replica.siteId,
      ...(stats.count > 0 ? { pending: totalsOf(stats) } : {}),
    });
  }

  afterClose(databaseId: string, file: string): void {
    this.files.delete(databaseId);
    const info = this.closedInfo.get(databaseId);
    this.closedInfo.delete(databaseId);
    this.closedDbs.closed(databaseId, file, info ?? { clean: false });
  }

  // --- apply seams ---

  /** The outbox record of an apply, built inside its transaction (only when applied > 0). */
  batchRecorder(databaseId: string, clientId: SiteId, replica: Replica, changeSets: readonly ChangeSet[]) {
    return (result: ApplyResult): string =>
      encodeBatch({ databaseId, clientId, serverSiteId: replica.siteId, changeSets, result, time: this.now() });
  }

  afterApply(databaseId: string, result: ApplyResult): void {
    const db = this.open.get(databaseId);
    // In a cluster every node's merge reports itself (afterMerge), the receiving node's included.
    if (!db || result.applied === 0 || db.turn) return;
    db.drain.kick();
    this.considerSnapshot(databaseId, db);
  }

  private afterMerge(databaseId: string, applied: number): void {
    const db = this.open.get(databaseId);
    if (!db || applied === 0) return;
    db.factsSinceMark += applied;
    if (!db.turn?.holder) return;
    db.drain.kick();
    this.considerSnapshot(databaseId, db);
  }

  /** Takes a snapshot of an open database now (unless one is running, or its store is closing); resolves when uploaded. */
  async snapshotNow(databaseId: string): Promise<void> {
    const db = this.open.get(databaseId);
    if (!db) throw new Error(`database ${JSON.stringify(databaseId)} is not open`);
    await (db.snapshot ?? this.startSnapshot(databaseId, db));
  }

  /** Uploads every open database's outbox now; true when all are empty within `timeoutMs`. */
  async flushAll(timeoutMs = this.options.config.s3.flushTimeoutMs): Promise<boolean> {
    const results = await Promise.all([...this.open.values()].map((db) => db.drain.flush(timeoutMs)));
    return results.every(Boolean);
  }

  /** One pass over closed databases now (drain, evict); resolves when done. */
  sweepClosed(): Promise<void> {
    return this.closedDbs.tick();
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.open.values()].map((db) => db.drain.stop()));
    await Promise.allSettled([...this.open.values()].map((db) => db.snapshot));
    await this.closedDbs.stop();
    this.open.clear();
    this.store.close();
  }

  /** True while uploads of some open database's batches keep failing (S3 unreachable for writes). */
  get writesFailing(): boolean {
    for (const db of this.open.values()) if (db.drain.failing > 0) return true;
    return false;
  }

  private newDrain(databaseId: string, replica: Replica): OutboxDrain {
    return new OutboxDrain(replica, this.layoutFor(databaseId), this.store, {
      retryMaxDelayMs: this.options.config.s3.retryMaxDelayMs,
      log: this.log,
      onUploaded: (n) => this.metrics.batchUploadsTotal.inc(n),
      onFailed: (n) => this.metrics.batchUploadFailuresTotal.inc(n),
    });
  }

  private tick(): void {
    if (this.stopping) return;
    for (const [databaseId, db] of this.open) {
      void db.turn?.tick();
      this.considerSnapshot(databaseId, db);
    }
    void this.closedDbs.tick();
  }

  private considerSnapshot(databaseId: string, db: OpenDatabase): void {
    if (this.stopping || db.snapshot || (db.turn && !db.turn.holder)) return;
    let lastSeq: number;
    try {
      lastSeq = db.replica.lastSeq;
    } catch {
      return;
    }
    const anyArrived = lastSeq > db.mark.seq;
    const arrived = db.turn ? (anyArrived ? Math.max(1, db.factsSinceMark) : 0) : lastSeq - db.mark.seq;
    if (!snapshotDue(db.mark, arrived, this.now(), this.options.config.s3)) return;
    void this.startSnapshot(databaseId, db);
  }

  private startSnapshot(databaseId: string, db: OpenDatabase): Promise<void> {
    // Only a store open right now: acquire() would wait for one that is closing and open it again.
    // A closing store is flushed by its close, and its next open snapshots it when due.
    const handle = this.stores?.acquireIfOpen(databaseId);
    if (this.stores && handle?.replica !== db.replica) {
      handle?.release();
      return Promise.resolve();
    }
    const run = (async () => {
      try {
        const replica = handle?.replica ?? db.replica;
        if (db.turn) {
          const counted = db.factsSinceMark;
          db.mark = await this.uploadImageOf(databaseId, replica, db.turn);
          db.factsSinceMark -= counted;
        } else {
          const { mark, report } = await snapshotTo(this.store, this.layoutFor(databaseId), replica, this.now);
          db.mark = mark;
          this.log.info(
            { databaseId, snapshotId: report.snapshotId, entries: report.entries, seq: mark.seq },
            'snapshot uploaded',
          );
        }
        this.lastSnapshot = { databaseId, at: db.mark.at };
        this.metrics.snapshotsTotal.inc();
        this.prune(databaseId);
      } catch (err) {
        this.metrics.snapshotFailuresTotal.inc();
        if (!this.stopping) this.log.warn({ databaseId, err }, 'snapshot upload failed; retried on the next schedule');
      } finally {
        handle?.release();
        db.snapshot = undefined;
      }
    })();
    db.snapshot = run;
    return run;
  }

  /** A cluster's snapshot: an image of this node's file (shared-image.ts); the turn then trims the log. */
  private async uploadImageOf(databaseId: string, replica: Replica, turn: SharedTurn): Promise<SnapshotMark> {
    const shared = this.options.shared!;
    const file = this.files.get(databaseId);
    if (file === undefined) throw new Error(`no file known for database ${JSON.stringify(databaseId)}`);
    const layout = this.layoutFor(databaseId);
    const seq = replica.lastSeq;
    const at = this.now();
    const input = { store: this.store, layout, shared, openFile: this.options.openFile };
    const image = await uploadSharedImage(input, replica, file, at);
    const mark = { at, seq };
    writeMark(replica, mark);
    this.log.info({ databaseId, image: image.key, position: image.position }, 'snapshot uploaded (image)');
    const previous = (await positionedImages(this.store, layout)).filter((i) => i.position < image.position).at(-1);
    turn.imageTaken(previous?.position);
    return mark;
  }

  private prune(databaseId: string): void {
    pruneArchive(this.store, this.layoutFor(databaseId), this.options.config.s3.keepSnapshots).then(
      (report) => {
        if (report.bases + report.batches > 0)
          this.log.info({ databaseId, ...report }, 'old snapshots and batches deleted');
      },
      (err: unknown) => this.log.warn({ databaseId, err }, 'pruning old snapshots failed; retried after the next one'),
    );
  }

  /** Batches waiting for their upload, in open databases and in closed ones known to hold some. */
  outboxTotals(): OutboxTotals {
    const open: OutboxTotals[] = [];
    for (const db of this.open.values()) {
      try {
        open.push(totalsOf(db.replica.outboxStats()));
      } catch {
        // closing
      }
    }
    return sumTotals([...open, ...this.closedDbs.totals()]);
  }
}
