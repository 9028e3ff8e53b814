// What the admin page shows, as its JSON API answers it. Times are ms since the epoch; counters
// are totals since start (a reader computes rates from two samples and their `sampledAt`).

export type DatabaseState = 'open' | 'closed' | 'evicted';

/** One coordinator process. A cluster will list several; today there is one, marked `self`. */
export interface AdminNode {
  readonly id: string;
  readonly self: boolean;
  readonly status: 'up';
  readonly startedAt: number;
  readonly connections: number;
  readonly openDatabases: number;
}

export interface AdminCount {
  readonly name: string;
  readonly count: number;
}

export type AdminS3 =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly bucket: string;
      readonly outboxDepth: number;
      /** Added time of the oldest batch still waiting for its upload. */
      readonly outboxOldestAt?: number;
      readonly lastSnapshot?: { readonly databaseId: string; readonly at: number };
      readonly batchUploads: number;
      readonly batchUploadFailures: number;
      readonly snapshots: number;
      readonly snapshotFailures: number;
      readonly restores: number;
      readonly restoreFailures: number;
      readonly evictions: number;
    };

export interface AdminOverview {
  readonly sampledAt: number;
  readonly server: {
    readonly startedAt: number;
    readonly uptimeSeconds: number;
    readonly nodeVersion: string;
    readonly basePath: string;
    readonly authMode: string;
    readonly rssBytes: number;
    readonly heapUsedBytes: number;
  };
  readonly cluster: { readonly mode: 'single'; readonly nodes: readonly AdminNode[] };
  readonly connections: { readonly active: number; readonly accepted: number; readonly sessions: number };
  readonly counters: {
    readonly changeSetsReceived: number;
    readonly changesApplied: number;
    readonly changeSetsRejected: number;
    readonly changeSetsBroadcast: number;
    readonly broadcastErrors: number;
    readonly snapshotRequests: number;
    readonly authFailures: number;
    readonly errors: number;
  };
  readonly errorsByCode: readonly AdminCount[];
  readonly limitsHit: readonly AdminCount[];
  readonly databases: {
    readonly open: number;
    readonly closed: number;
    readonly evicted: number;
    readonly total: number;
  };
  readonly limits: {
    readonly maxConnections: number;
    readonly maxOpenStores: number;
    readonly maxConnectionsPerDatabase: number;
  };
  readonly s3: AdminS3;
}

export interface DatabaseSummary {
  readonly databaseId: string;
  readonly state: DatabaseState;
  /** WebSocket sessions on it now. */
  readonly sessions: number;
  /** Open: the last session start, request, apply or snapshot; closed: the file's last change. */
  readonly lastActivityAt?: number;
  /** Open only: changes applied per second over about the last minute. */
  readonly arrivalsPerSecond?: number;
  /** Open only: the arrival sequence (grows with every fact stored). */
  readonly lastSeq?: number;
  /** Size of the SQLite file (without its write-ahead log), when on local disk. */
  readonly fileBytes?: number;
  readonly evictedAt?: number;
}

export interface DatabasePage {
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly items: readonly DatabaseSummary[];
}

export interface TableSummary {
  readonly schema: string;
  readonly table: string;
  readonly rows: number;
  readonly cells: number;
  readonly tombstones: number;
}

export interface DatabaseDetail extends DatabaseSummary {
  /** Present when the database is open (or was opened because the request asked). */
  readonly replica?: {
    readonly siteId: string;
    readonly lastSeq: number;
    readonly outboxDepth: number;
    readonly lastSnapshotAt?: number;
    readonly tables: readonly TableSummary[];
  };
}

export interface AdminCell {
  readonly column: string;
  /** The value in its wire form (PROTOCOL.md §1.3). */
  readonly value: unknown;
  readonly hlc: string;
  readonly wallTime: number;
  readonly counter: number;
  /** Site id that wrote it (its origin). */
  readonly site: string;
  readonly seq: number;
}

export interface RowsPage {
  readonly databaseId: string;
  readonly schema: string;
  readonly table: string;
  readonly rows: readonly { readonly pk: readonly unknown[]; readonly cells: readonly AdminCell[] }[];
  /** The `after` of the next page, when more rows may follow. */
  readonly next?: string;
}
