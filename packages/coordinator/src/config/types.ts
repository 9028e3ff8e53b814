// The coordinator's configuration: the keys of PROTOCOL.md §9 (so a reference deployment's config
// keeps working) plus Syncord's own limits. Every limit is here, documented in README.md.

export const AUTH_MODES = ['none', 'token-whitelist', 'custom'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** `auto` is `strict` whenever `auth.mode` is not `none` (claimed site ids are then proven), else `any`. */
export const ORIGIN_CHECKS = ['auto', 'any', 'strict'] as const;
export type OriginCheck = (typeof ORIGIN_CHECKS)[number];
/**
 * Flexible checksums of the AWS SDK: `when-supported` sends streamed bodies as `aws-chunked`,
 * which several S3-compatible stores (s3rver, some MinIO and R2 setups) store verbatim or refuse.
 */
export const S3_CHECKSUM_MODES = ['when-required', 'when-supported'] as const;
export type S3ChecksumMode = (typeof S3_CHECKSUM_MODES)[number];

export interface CoordinatorConfig {
  host: string;
  port: number;
  /** URL prefix without a trailing slash; '' is the root. */
  basePath: string;
  dataDir: string;
  /** origin: true reflects any origin, false turns CORS off, a list allows exactly those. */
  cors: { origin: boolean | string[]; credentials: boolean };
  /** Tokens given with no mode anywhere imply token-whitelist (PROTOCOL.md §9). */
  auth: { mode: AuthMode; tokens: string[] };
  sync: {
    /** Tombstones and watermark bookkeeping older than this are pruned; older watermarks must resync. */
    retentionHorizonMs: number;
    /** Data changes per `changes` reply (whole transactions; the one crossing the bound is included). */
    batchSize: number;
    /** Let a column write newer than a tombstone revive the row. */
    allowResurrection: boolean;
    /** How often open databases are pruned (each is also pruned as it opens). */
    maintenanceIntervalMs: number;
    /**
     * Whether a client may push facts stamped with another site's id that the server does not
     * already hold (`strict` refuses them; re-pushes of held facts stay legal).
     */
    originCheck: OriginCheck;
    /** WebSocket ping interval; a socket whose pong has not come back by the next ping is dropped. */
    pingIntervalMs: number;
    /**
     * A WebSocket apply of at least this many data changes is followed by a request_changes for the
     * client's next page (a client that pushes one page per local write); 0 turns it off.
     */
    backlogRequestMinChanges: number;
  };
  stores: {
    /** Open databases at most; the least recently used unreferenced one is closed first. */
    maxOpenStores: number;
    /** An unreferenced store is closed after this long. */
    idleCloseMs: number;
    /** How often idle stores are looked for. */
    cleanupIntervalMs: number;
  };
  limits: {
    /** Longest accepted databaseId. */
    maxDatabaseIdLength: number;
    /** Largest WebSocket message in bytes. */
    maxMessageBytes: number;
    /** Largest HTTP request body in bytes. */
    maxBodyBytes: number;
    /** Change sets in one apply. */
    maxChangeSetsPerApply: number;
    /** Data changes (summed over change sets) in one apply. */
    maxChangesPerApply: number;
    /** Open WebSocket connections, handshaken or not. */
    maxConnections: number;
    /** WebSocket sessions on one database. */
    maxConnectionsPerDatabase: number;
    /** Snapshot streams in progress at once, WebSocket and HTTP together. */
    maxConcurrentSnapshots: number;
    /** A WebSocket without a successful handshake by then is closed (4008). */
    handshakeTimeoutMs: number;
    /** Sustained WebSocket messages per second per connection (token bucket refill). */
    messageRatePerSecond: number;
    /** Messages a connection may send at once above the rate; this far in debt it is closed. */
    messageBurst: number;
    /** Send-buffer bytes above which a snapshot stream waits for the socket to drain. */
    sendHighWaterBytes: number;
    /** Send-buffer bytes past which a lagging WebSocket is closed (1013) instead of buffering more. */
    maxBufferedBytes: number;
  };
  logging: { level: LogLevel; format: LogFormat };
  /** The Prometheus route (`<basePath>/metrics`). */
  metrics: {
    /**
     * Label series with database ids (`sync_database_sessions{database}`). Off, they name no
     * tenant: every database is counted as `database="_other"`.
     */
    perDatabaseLabels: boolean;
    /**
     * Bearer token the metrics route requires when set; with `auth.mode` other than `none` and no
     * token, the route answers 403. Empty means "not set".
     */
    token: string;
  };
  /** S3 durability (PROTOCOL.md §10): on when `bucket` is set. Empty strings mean "not set". */
  s3: {
    bucket: string;
    region: string;
    /** Custom endpoint URL (MinIO, R2, s3rver); empty for AWS. */
    endpoint: string;
    /** Used only with secretAccessKey; both empty means the SDK's default credential chain. */
    accessKeyId: string;
    secretAccessKey: string;
    forcePathStyle: boolean;
    /** Prepended verbatim to every key (include a trailing `/`). */
    keyPrefix: string;
    checksums: S3ChecksumMode;
    /** A database with changes since its last snapshot gets a new one after this long. */
    snapshotIntervalMs: number;
    /** ...or as soon as this many facts arrived since its last snapshot. */
    snapshotChanges: number;
    /** Snapshots kept per database; older ones, and batches older than the oldest kept, are deleted. */
    keepSnapshots: number;
    /** Longest wait between two attempts of a failing batch upload (backoff doubles up to it). */
    retryMaxDelayMs: number;
    /** How long closing a database (and shutdown) waits for its pending batch uploads. */
    flushTimeoutMs: number;
  };
  /** Idle closed databases leave local disk once S3 holds all of them (only with S3 on). */
  diskEviction: {
    enabled: boolean;
    /** How long a database stays closed on disk before it is evicted. */
    idleMs: number;
  };
  /** Cluster mode (docs/cluster.md): on when `natsUrl` is set; empty strings mean "not set". */
  cluster: {
    /** Comma-separated NATS server URLs; this process becomes one node of the cluster. */
    natsUrl: string;
    /** Copies JetStream keeps of every entry (3 in production, at most the NATS servers). */
    replicas: number;
    /** Subjects, stream and KV bucket names start with it: one cluster per prefix. */
    subjectPrefix: string;
    /** This node's name in logs and NATS monitoring; empty means host name and process id. */
    nodeName: string;
    /** Longest wait for JetStream to acknowledge an apply (or answer a read) before it fails. */
    ackTimeoutMs: number;
    /** With S3 on: how long a node's turn at archiving a database lasts unless renewed. */
    archiveTurnMs: number;
  };
  /** The admin page at `{basePath}/admin`. */
  admin: {
    /** Bearer token (or login form) of the admin page; empty turns it off unless auth.mode is none. */
    token: string;
    /** Most databases or rows one admin page request returns. */
    maxPageSize: number;
  };
}

export const DEFAULT_CONFIG: CoordinatorConfig = {
  host: '0.0.0.0',
  port: 3000,
  basePath: '/sync',
  dataDir: './.data',
  cors: { origin: true, credentials: true },
  auth: { mode: 'none', tokens: [] },
  sync: {
    retentionHorizonMs: 30 * 24 * 3600 * 1000,
    batchSize: 1000,
    allowResurrection: false,
    maintenanceIntervalMs: 3600 * 1000,
    originCheck: 'auto',
    pingIntervalMs: 30 * 1000,
    backlogRequestMinChanges: 100,
  },
  stores: { maxOpenStores: 100, idleCloseMs: 5 * 60 * 1000, cleanupIntervalMs: 30 * 1000 },
  limits: {
    maxDatabaseIdLength: 255,
    maxMessageBytes: 16 * 1024 * 1024,
    maxBodyBytes: 16 * 1024 * 1024,
    maxChangeSetsPerApply: 10_000,
    maxChangesPerApply: 100_000,
    maxConnections: 10_000,
    maxConnectionsPerDatabase: 1000,
    maxConcurrentSnapshots: 32,
    handshakeTimeoutMs: 10 * 1000,
    messageRatePerSecond: 500,
    messageBurst: 1000,
    sendHighWaterBytes: 1024 * 1024,
    maxBufferedBytes: 16 * 1024 * 1024,
  },
  logging: { level: 'info', format: 'auto' },
  metrics: { perDatabaseLabels: false, token: '' },
  s3: {
    bucket: '',
    region: 'us-east-1',
    endpoint: '',
    accessKeyId: '',
    secretAccessKey: '',
    forcePathStyle: false,
    keyPrefix: '',
    checksums: 'when-required',
    snapshotIntervalMs: 5 * 60 * 1000,
    snapshotChanges: 1000,
    keepSnapshots: 5,
    retryMaxDelayMs: 30 * 1000,
    flushTimeoutMs: 10 * 1000,
  },
  diskEviction: { enabled: true, idleMs: 3600 * 1000 },
  cluster: {
    natsUrl: '',
    replicas: 1,
    subjectPrefix: 'syncord',
    nodeName: '',
    ackTimeoutMs: 5000,
    archiveTurnMs: 15_000,
  },
  admin: { token: '', maxPageSize: 500 },
};

/** A partial config as a file, environment or command line gives it; merged per section. */
export type PartialConfig = {
  [K in keyof CoordinatorConfig]?: CoordinatorConfig[K] extends object
    ? CoordinatorConfig[K] extends unknown[]
      ? CoordinatorConfig[K]
      : Partial<CoordinatorConfig[K]>
    : CoordinatorConfig[K];
};
