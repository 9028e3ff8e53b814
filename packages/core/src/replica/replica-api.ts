// The public face of the merge engine that the coordinator and the client program against.
import type { HLC } from '../clock/hlc.js';
import type { SiteId } from '../clock/site-id.js';
import type { ApplyResult, ChangeSet, SnapshotCheckpoint, SqlValue } from '../wire/types.js';
import type { CoverageNote } from './watermarks.js';

export interface ReplicaOptions {
  /** When true, a column write newer than a row's tombstone revives the row. Default false. */
  readonly allowResurrection?: boolean;
  /** Physical clock in ms; injectable for tests. Default Date.now. */
  readonly now?: () => number;
  /** How many handed-out watermarks are remembered per requesting site (gap-free catch-up). */
  readonly watermarksPerSite?: number;
  /** How many requesting sites are remembered at most; the least recently served are forgotten. */
  readonly maxWatermarkSites?: number;
  /**
   * True where requesters can claim any site id (a coordinator): a reply may create or lower a
   * watermark record but never raise it, and never re-create one that was forgotten (see
   * watermarks.ts), so nobody can spoil another site's catch-up. Default false: whoever presents a
   * watermark is trusted to have received it (a client replica answering its own server), which
   * lets a caller that pages by asking again always reach the end.
   */
  readonly guardCoverage?: boolean;
  /**
   * The site id of a store created by this open (ignored when the store already has one): a
   * database rebuilt from a backup keeps its identity, so its peers' watermarks stay valid.
   */
  readonly siteId?: SiteId;
  /**
   * Told of every coverage record a catch-up or snapshot writes, after it is written: a cluster
   * node shares it so that a watermark it handed out is honoured by the other nodes.
   */
  readonly onCoverage?: (note: CoverageNote) => void;
}

export interface ApplyOptions {
  /**
   * Called inside the apply's transaction when it applied something; the text returned is added
   * to the replica's outbox in that same transaction (so it exists exactly when the merge does).
   */
  readonly outbox?: (result: ApplyResult) => string;
  /**
   * Called inside the apply's transaction with what it applied: each change set trimmed to the
   * facts and migrations that changed this replica (`hlc` renormalised to the newest left), sets
   * with nothing applied left out, [] when nothing applied. A relay passes on these, not what it
   * received. Meaningful only once the apply commits.
   */
  readonly onApplied?: (changeSets: ChangeSet[]) => void;
  /**
   * The apply's position in a log shared by several replicas of one database (a cluster): the
   * facts it stores get arrival sequences above this, so every replica that applies the log in
   * order gives a fact the same place and coverage records mean the same on all of them. Its clock
   * drift was checked when it entered the log, so it is not checked again.
   */
  readonly arrivalSeqFloor?: number;
  /**
   * Data facts stamped with this replica's own site id are skipped by default (an echo of what it
   * wrote). 'apply' merges them like any other: for a replica restoring its own writes that a
   * snapshot cleared.
   */
  readonly ownFacts?: 'skip' | 'apply';
}

/** One apply of a group commit (Replica.applyGroup). */
export interface ApplyBatch {
  readonly changeSets: readonly ChangeSet[];
  readonly options?: ApplyOptions;
}

/** A record waiting in the outbox, oldest first by id. */
export interface OutboxEntry {
  readonly id: number;
  readonly body: string;
  /** ms time it was added. */
  readonly createdAt: number;
}

export interface OutboxStats {
  readonly count: number;
  /** createdAt of the oldest entry, when there is one. */
  readonly oldestCreatedAt?: number;
}

export interface GetChangesOptions {
  /** Stop adding whole transactions once this many data changes are included. Default 1000. */
  readonly batchSize?: number;
  /**
   * False: a look that is no reply, so nothing about the requester is recorded (no watermark, no
   * coverage) and the read writes nothing. Default true.
   */
  readonly record?: boolean;
}

/** One page of a catch-up. */
export interface ChangesPage {
  readonly changeSets: ChangeSet[];
  /** True when more pages follow; the last page (possibly empty) has false. */
  readonly more: boolean;
}

/** One page of a catch-up as wire text, for a server that only forwards it. */
export interface ChangesPageJson {
  /** JSON.stringify of the page's change sets encoded with encodeChangeSet: a JSON array. */
  readonly changeSetsJson: string;
  readonly changeSetCount: number;
  readonly more: boolean;
}

/**
 * A catch-up served page by page (Replica.openChangesCursor). Each page is bounded by the batch
 * size (whole transactions), in HLC order, and its max is a watermark a client may resume from.
 * Pages never repeat a fact, except one that arrives while the cursor is open.
 */
export interface ChangesCursor {
  /** The next page; after the last one, empty pages. Each call is one synchronous read. */
  next(): ChangesPage;
  /** The same as next() (the two may be mixed), written directly as wire text: much cheaper to serve. */
  nextJson(): ChangesPageJson;
}

export interface SnapshotOptions {
  /** Site that receives the snapshot; its catch-up from the header HLC is then gap-free. */
  readonly requester?: SiteId;
  /** Resume: header copies snapshotId/siteId/hlc from it, completed tables are skipped. */
  readonly resume?: SnapshotCheckpoint;
  /** Entries per column-versions / tombstone chunk, at most 1000. */
  readonly chunkSize?: number;
}

export interface SnapshotApplyOptions {
  /**
   * Called with the checkpoint each time it is stored (header, every chunk, every table end).
   * Chunk commits are not synced to disk one by one, so after a crash `pendingCheckpoint()` may
   * return an earlier one than last reported: always the one matching what the store holds.
   */
  readonly onCheckpoint?: (checkpoint: SnapshotCheckpoint) => void;
  /** Called after each chunk with running progress. */
  readonly onProgress?: (progress: SnapshotProgress) => void;
}

export interface SnapshotProgress {
  readonly tablesProcessed: number;
  readonly totalTables: number;
  /** Column-version entries applied (tombstones are not entries), resumed ones included. */
  readonly entriesProcessed: number;
  /** The tables' `estimatedEntries` seen so far (plus resumed ones); the footer's total at the end. */
  readonly totalEntries: number;
  readonly currentTable?: string;
  /** Rows whose cells this stream has delivered (a resumed stream counts its own rows only). */
  readonly rowsReceived: number;
  /**
   * The rows this stream carries, from its header (Syncord's `rowCount`): known from the first
   * report on. Absent when the server does not send it (the reference coordinator).
   */
  readonly rowsTotal?: number;
}

export interface DeltaSyncCheck {
  readonly ok: boolean;
  readonly reason?: string;
}

/**
 * What retention pruned in a database: the HLC of the newest tombstone it ever pruned, 'none'
 * when it never pruned one, 'unknown' when that is not known (a backup that did not record it).
 */
export type PrunedHorizon = HLC | 'none' | 'unknown';

/** One live cell as stored: its value, the HLC that wrote it (whose site is its origin), its arrival. */
export interface CellVersion {
  readonly column: string;
  readonly value: SqlValue;
  readonly hlc: HLC;
  readonly seq: number;
}

/** A live row with every cell's version, columns in name order. */
export interface RowVersionsView {
  /** Canonical row identity; pass the last one of a page as `after` to read the next page. */
  readonly pkKey: string;
  readonly pk: readonly SqlValue[];
  readonly cells: readonly CellVersion[];
}

export interface RowPage {
  readonly rows: RowVersionsView[];
  /** Set when more rows may follow: the `after` of the next page. */
  readonly next?: string;
}

/** Live contents of one table. */
export interface TableCounts {
  readonly schema: string;
  readonly table: string;
  readonly rows: number;
  readonly cells: number;
  readonly tombstones: number;
}
