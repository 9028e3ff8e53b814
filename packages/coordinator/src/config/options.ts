import type { ConfigKey } from './config-keys.js';
import { getAt } from './config-keys.js';
import { AUTH_MODES, DEFAULT_CONFIG, LOG_FORMATS, LOG_LEVELS, ORIGIN_CHECKS, S3_CHECKSUM_MODES } from './types.js';
import type { ValueKind } from './value-kinds.js';
import {
  boolean,
  integer,
  oneOf,
  optionalText,
  optionalUrl,
  origins,
  subjectToken,
  text,
  tokens,
  urlPath,
} from './value-kinds.js';

/**
 * One configurable key and every way to set it. This table is the single source for environment
 * parsing, command-line flags, `--help` and the README's configuration table (a test compares them).
 */
export interface ConfigOption {
  /** Path in CoordinatorConfig. */
  readonly key: ConfigKey;
  /** Environment variable (PROTOCOL.md §9 names; ours are SYNC_ + the key in upper snake case). */
  readonly env: string;
  /** Long command-line flag without the dashes. */
  readonly flag: string;
  /** One-letter flag of PROTOCOL.md §9, if any (not -h: that is help, as in every other command). */
  readonly short?: string;
  /** Placeholder shown after the flag; `[bool]` means the bare flag sets true. */
  readonly arg: string;
  readonly kind: ValueKind;
  /** Shown in --help and the README; the unit of a number, if any, is in `unit`. */
  readonly description: string;
  readonly unit?: 'ms' | 'bytes';
}

/** setTimeout/setInterval treat anything above this as 1 ms, so a timer option may not exceed it. */
export const MAX_TIMER_MS = 2_147_483_647;

const positive = integer(1);
const timerMs = integer(1, MAX_TIMER_MS);
const bytes = integer(1);

export const CONFIG_OPTIONS: readonly ConfigOption[] = [
  {
    key: 'host',
    env: 'SYNC_HOST',
    flag: 'host',
    arg: '<host>',
    kind: text('a host name or IP address'),
    description: 'Interface to listen on.',
  },
  {
    key: 'port',
    env: 'SYNC_PORT',
    flag: 'port',
    short: 'p',
    arg: '<port>',
    kind: integer(0, 65535),
    description: 'TCP port to listen on; 0 picks a free one.',
  },
  {
    key: 'basePath',
    env: 'SYNC_BASE_PATH',
    flag: 'base-path',
    short: 'b',
    arg: '<path>',
    kind: urlPath,
    description: 'URL prefix of the WebSocket and HTTP endpoints; "/" for the root.',
  },
  {
    key: 'dataDir',
    env: 'SYNC_DATA_DIR',
    flag: 'data-dir',
    short: 'd',
    arg: '<dir>',
    kind: text('a directory path'),
    description: 'Directory holding one SQLite file per database.',
  },
  {
    key: 'cors.origin',
    env: 'SYNC_CORS_ORIGIN',
    flag: 'cors-origin',
    arg: '<origins>',
    kind: origins,
    description: 'Allowed CORS origins: true (any), false (CORS off) or a comma list.',
  },
  {
    key: 'cors.credentials',
    env: 'SYNC_CORS_CREDENTIALS',
    flag: 'cors-credentials',
    arg: '[bool]',
    kind: boolean,
    description: 'Allow credentials on cross-origin requests.',
  },
  {
    key: 'auth.mode',
    env: 'SYNC_AUTH_MODE',
    flag: 'auth-mode',
    arg: '<mode>',
    kind: oneOf(AUTH_MODES),
    description:
      'none, token-whitelist, or custom (an onAuthenticate hook decides). Tokens set with no mode anywhere imply token-whitelist.',
  },
  {
    key: 'auth.tokens',
    env: 'SYNC_AUTH_TOKENS',
    flag: 'auth-tokens',
    arg: '<list>',
    kind: tokens,
    description: 'Accepted tokens for token-whitelist, as a comma list.',
  },
  {
    key: 'sync.retentionHorizonMs',
    env: 'SYNC_RETENTION_HORIZON_MS',
    flag: 'retention-horizon-ms',
    arg: '<ms>',
    kind: positive,
    unit: 'ms',
    description: 'Tombstones older than this are pruned; a client whose watermark is older must resync.',
  },
  {
    key: 'sync.batchSize',
    env: 'SYNC_BATCH_SIZE',
    flag: 'batch-size',
    arg: '<n>',
    kind: positive,
    description:
      'Data changes per changes message (whole transactions; the one crossing the bound is included). ' +
      'A WebSocket catch-up is sent as consecutive such pages, more: true on all but the last; HTTP returns one page.',
  },
  {
    key: 'sync.allowResurrection',
    env: 'SYNC_ALLOW_RESURRECTION',
    flag: 'allow-resurrection',
    arg: '[bool]',
    kind: boolean,
    description: "Let a column write newer than a row's tombstone revive the row.",
  },
  {
    key: 'sync.maintenanceIntervalMs',
    env: 'SYNC_MAINTENANCE_INTERVAL_MS',
    flag: 'maintenance-interval-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description:
      'How often tombstones past the retention horizon are pruned in open databases (each is also pruned as it opens).',
  },
  {
    key: 'sync.originCheck',
    env: 'SYNC_ORIGIN_CHECK',
    flag: 'origin-check',
    arg: '<mode>',
    kind: oneOf(ORIGIN_CHECKS),
    description:
      "strict: a change set with facts stamped by another site than the client's is refused (ORIGIN_MISMATCH) unless the server already holds them; any: no check; auto: strict unless auth.mode is none.",
  },
  {
    key: 'sync.pingIntervalMs',
    env: 'SYNC_PING_INTERVAL_MS',
    flag: 'ping-interval-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'WebSocket ping interval; a socket that has not answered by the next ping is terminated.',
  },
  {
    key: 'sync.backlogRequestMinChanges',
    env: 'SYNC_BACKLOG_REQUEST_MIN_CHANGES',
    flag: 'backlog-request-min-changes',
    arg: '<n>',
    kind: integer(0),
    description:
      'After acknowledging a WebSocket apply_changes of at least this many data changes, ask the client for its next page (request_changes), so a client that pushes one page per local write sends its whole backlog; 0 turns it off.',
  },
  {
    key: 'stores.maxOpenStores',
    env: 'SYNC_MAX_OPEN_STORES',
    flag: 'max-open-stores',
    arg: '<n>',
    kind: positive,
    description:
      'Databases open at once at most, those in use included; past it the least recently used unused one is closed, and when all are in use a new one is refused with STORAGE_UNAVAILABLE (close 1013, HTTP 503).',
  },
  {
    key: 'stores.idleCloseMs',
    env: 'SYNC_IDLE_CLOSE_MS',
    flag: 'idle-close-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'A database with no session or request is closed after this long.',
  },
  {
    key: 'stores.cleanupIntervalMs',
    env: 'SYNC_CLEANUP_INTERVAL_MS',
    flag: 'cleanup-interval-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'How often idle databases are looked for.',
  },
  {
    key: 'limits.maxDatabaseIdLength',
    env: 'SYNC_MAX_DATABASE_ID_LENGTH',
    flag: 'max-database-id-length',
    arg: '<n>',
    kind: positive,
    description: 'Longest accepted databaseId, in characters.',
  },
  {
    key: 'limits.maxMessageBytes',
    env: 'SYNC_MAX_MESSAGE_BYTES',
    flag: 'max-message-bytes',
    arg: '<bytes>',
    kind: bytes,
    unit: 'bytes',
    description: 'Largest WebSocket message.',
  },
  {
    key: 'limits.maxBodyBytes',
    env: 'SYNC_MAX_BODY_BYTES',
    flag: 'max-body-bytes',
    arg: '<bytes>',
    kind: bytes,
    unit: 'bytes',
    description: 'Largest HTTP request body.',
  },
  {
    key: 'limits.maxChangeSetsPerApply',
    env: 'SYNC_MAX_CHANGE_SETS_PER_APPLY',
    flag: 'max-change-sets-per-apply',
    arg: '<n>',
    kind: positive,
    description: 'Change sets in one apply.',
  },
  {
    key: 'limits.maxChangesPerApply',
    env: 'SYNC_MAX_CHANGES_PER_APPLY',
    flag: 'max-changes-per-apply',
    arg: '<n>',
    kind: positive,
    description: 'Data changes, summed over its change sets, in one apply.',
  },
  {
    key: 'limits.maxConnections',
    env: 'SYNC_MAX_CONNECTIONS',
    flag: 'max-connections',
    arg: '<n>',
    kind: positive,
    description: 'Open WebSocket connections at most; one more gets TOO_MANY_CONNECTIONS and close 1013.',
  },
  {
    key: 'limits.maxConnectionsPerDatabase',
    env: 'SYNC_MAX_CONNECTIONS_PER_DATABASE',
    flag: 'max-connections-per-database',
    arg: '<n>',
    kind: positive,
    description:
      'WebSocket sessions on one database at most; one more handshake gets TOO_MANY_CONNECTIONS and close 1013.',
  },
  {
    key: 'limits.maxConcurrentSnapshots',
    env: 'SYNC_MAX_CONCURRENT_SNAPSHOTS',
    flag: 'max-concurrent-snapshots',
    arg: '<n>',
    kind: positive,
    description: 'Snapshot streams at once (WebSocket and HTTP); one more gets SNAPSHOT_ERROR (HTTP 503).',
  },
  {
    key: 'limits.handshakeTimeoutMs',
    env: 'SYNC_HANDSHAKE_TIMEOUT_MS',
    flag: 'handshake-timeout-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'A WebSocket without a successful handshake by then is closed with 4008.',
  },
  {
    key: 'limits.messageRatePerSecond',
    env: 'SYNC_MESSAGE_RATE_PER_SECOND',
    flag: 'message-rate-per-second',
    arg: '<n>',
    kind: positive,
    description:
      'Sustained WebSocket messages per second per connection; a message over it is dropped with RATE_LIMITED.',
  },
  {
    key: 'limits.messageBurst',
    env: 'SYNC_MESSAGE_BURST',
    flag: 'message-burst',
    arg: '<n>',
    kind: positive,
    description: 'Messages a connection may send at once; one that goes this many over is closed with 1008.',
  },
  {
    key: 'limits.sendHighWaterBytes',
    env: 'SYNC_SEND_HIGH_WATER_BYTES',
    flag: 'send-high-water-bytes',
    arg: '<bytes>',
    kind: bytes,
    unit: 'bytes',
    description: 'WebSocket send buffer above which a snapshot stream waits for the client to read.',
  },
  {
    key: 'limits.maxBufferedBytes',
    env: 'SYNC_MAX_BUFFERED_BYTES',
    flag: 'max-buffered-bytes',
    arg: '<bytes>',
    kind: bytes,
    unit: 'bytes',
    description:
      'WebSocket send buffer past which a client too slow to read is closed with 1013 (it catches up on reconnect).',
  },
  {
    key: 'logging.level',
    env: 'SYNC_LOG_LEVEL',
    flag: 'log-level',
    arg: '<level>',
    kind: oneOf(LOG_LEVELS),
    description: 'Least severe level logged (on stdout).',
  },
  {
    key: 'logging.format',
    env: 'SYNC_LOG_FORMAT',
    flag: 'log-format',
    arg: '<format>',
    kind: oneOf(LOG_FORMATS),
    description:
      'Log lines as pretty (readable, for a terminal) or json (one object per line, for collectors); auto is pretty on a TTY, json otherwise.',
  },
  {
    key: 'metrics.perDatabaseLabels',
    env: 'SYNC_METRICS_PER_DATABASE_LABELS',
    flag: 'metrics-per-database-labels',
    arg: '[bool]',
    kind: boolean,
    description:
      'Name databases in metric labels (sync_database_sessions, the 50 busiest); off, every database is counted as database="_other", so a scrape names no tenant.',
  },
  {
    key: 'metrics.token',
    env: 'SYNC_METRICS_TOKEN',
    flag: 'metrics-token',
    arg: '<token>',
    kind: optionalText('a token'),
    description:
      'Bearer token the metrics route (GET /sync/metrics with the default basePath) requires when set (never logged); with auth.mode other than none and no token set, the route answers 403.',
  },
  {
    key: 's3.bucket',
    env: 'S3_BUCKET',
    flag: 's3-bucket',
    arg: '<name>',
    kind: optionalText('a bucket name'),
    description:
      'S3 bucket; setting it turns on S3 durability (change-batch archive, snapshots, restore of a missing database).',
  },
  {
    key: 's3.region',
    env: 'S3_REGION',
    flag: 's3-region',
    arg: '<region>',
    kind: text('a region name'),
    description: 'S3 region.',
  },
  {
    key: 's3.endpoint',
    env: 'S3_ENDPOINT',
    flag: 's3-endpoint',
    arg: '<url>',
    kind: optionalUrl,
    description: 'Endpoint URL of an S3-compatible store (MinIO, R2); empty for AWS.',
  },
  {
    key: 's3.accessKeyId',
    env: 'S3_ACCESS_KEY_ID',
    flag: 's3-access-key-id',
    arg: '<id>',
    kind: optionalText('an access key id'),
    description: "Access key id, set together with the secret; neither set means the SDK's default credential chain.",
  },
  {
    key: 's3.secretAccessKey',
    env: 'S3_SECRET_ACCESS_KEY',
    flag: 's3-secret-access-key',
    arg: '<secret>',
    kind: optionalText('a secret access key'),
    description: 'Secret access key (never logged).',
  },
  {
    key: 's3.forcePathStyle',
    env: 'S3_FORCE_PATH_STYLE',
    flag: 's3-force-path-style',
    arg: '[bool]',
    kind: boolean,
    description: 'Address the bucket in the path instead of the host name (MinIO, s3rver).',
  },
  {
    key: 's3.keyPrefix',
    env: 'S3_KEY_PREFIX',
    flag: 's3-key-prefix',
    arg: '<prefix>',
    kind: optionalText('a key prefix'),
    description: 'Prepended verbatim to every object key; include a trailing /.',
  },
  {
    key: 's3.checksums',
    env: 'S3_CHECKSUMS',
    flag: 's3-checksums',
    arg: '<mode>',
    kind: oneOf(S3_CHECKSUM_MODES),
    description:
      "The SDK's request checksums: when-required works with every S3-compatible store; when-supported sends streamed uploads as aws-chunked, which some stores keep verbatim.",
  },
  {
    key: 's3.snapshotIntervalMs',
    env: 'S3_SNAPSHOT_INTERVAL_MS',
    flag: 's3-snapshot-interval-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'An open database with changes since its last snapshot gets a new one after this long.',
  },
  {
    key: 's3.snapshotChanges',
    env: 'S3_SNAPSHOT_CHANGES',
    flag: 's3-snapshot-changes',
    arg: '<n>',
    kind: positive,
    description: 'A database gets a new snapshot as soon as this many facts arrived since its last one.',
  },
  {
    key: 's3.keepSnapshots',
    env: 'S3_KEEP_SNAPSHOTS',
    flag: 's3-keep-snapshots',
    arg: '<n>',
    kind: positive,
    description:
      'Snapshots kept per database; older ones, and the batches older than the oldest kept one, are deleted (the point-in-time restore window).',
  },
  {
    key: 's3.retryMaxDelayMs',
    env: 'S3_RETRY_MAX_DELAY_MS',
    flag: 's3-retry-max-delay-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'Longest wait between attempts of a failing upload; the wait doubles from 100 ms up to it.',
  },
  {
    key: 's3.flushTimeoutMs',
    env: 'S3_FLUSH_TIMEOUT_MS',
    flag: 's3-flush-timeout-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description:
      "How long closing a database, and shutdown, wait for pending batch uploads (what is left stays in the database's outbox).",
  },
  {
    key: 'diskEviction.enabled',
    env: 'DISK_EVICTION_ENABLED',
    flag: 'disk-eviction-enabled',
    arg: '[bool]',
    kind: boolean,
    description:
      'With S3 on: an idle closed database leaves local disk once its batches and an image of it are in S3; it is restored when opened again.',
  },
  {
    key: 'diskEviction.idleMs',
    env: 'DISK_EVICTION_IDLE_MS',
    flag: 'disk-eviction-idle-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description: 'How long a database stays closed on local disk before it is evicted.',
  },
  {
    key: 'cluster.natsUrl',
    env: 'SYNC_NATS_URL',
    flag: 'nats-url',
    arg: '<urls>',
    kind: optionalText('comma-separated NATS URLs'),
    description:
      'NATS servers (comma-separated, JetStream on); setting it makes this process one node of a cluster whose nodes all serve every database (docs/cluster.md).',
  },
  {
    key: 'cluster.replicas',
    env: 'SYNC_CLUSTER_REPLICAS',
    flag: 'cluster-replicas',
    arg: '<n>',
    kind: integer(1, 5),
    description:
      'Copies JetStream keeps of the cluster log and its buckets: 3 in production (at most the NATS servers).',
  },
  {
    key: 'cluster.subjectPrefix',
    env: 'SYNC_CLUSTER_SUBJECT_PREFIX',
    flag: 'cluster-subject-prefix',
    arg: '<prefix>',
    kind: subjectToken,
    description: 'Prefix of the NATS subjects, stream and bucket names: nodes with the same prefix form one cluster.',
  },
  {
    key: 'cluster.nodeName',
    env: 'SYNC_NODE_NAME',
    flag: 'node-name',
    arg: '<name>',
    kind: optionalText('a node name'),
    description: 'Name of this node in logs and NATS monitoring; empty means <host name>-<process id>.',
  },
  {
    key: 'cluster.ackTimeoutMs',
    env: 'SYNC_CLUSTER_ACK_TIMEOUT_MS',
    flag: 'cluster-ack-timeout-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description:
      'Longest wait for JetStream to acknowledge an apply or answer a read; past it the request fails with STORAGE_UNAVAILABLE (close 1013).',
  },
  {
    key: 'cluster.archiveTurnMs',
    env: 'SYNC_CLUSTER_ARCHIVE_TURN_MS',
    flag: 'cluster-archive-turn-ms',
    arg: '<ms>',
    kind: timerMs,
    unit: 'ms',
    description:
      "With S3 on: one node at a time uploads a database's batches and snapshots; if it dies, another takes over within this time.",
  },
  {
    key: 'admin.token',
    env: 'SYNC_ADMIN_TOKEN',
    flag: 'admin-token',
    arg: '<token>',
    kind: optionalText('a token'),
    description:
      'Token of the admin page ({basePath}/admin), as a Bearer header or through its login form (never logged). With auth.mode none the page is open; otherwise it is off while this is empty.',
  },
  {
    key: 'admin.maxPageSize',
    env: 'SYNC_ADMIN_MAX_PAGE_SIZE',
    flag: 'admin-max-page-size',
    arg: '<n>',
    kind: positive,
    description: 'Most databases, or rows of a table, that one admin request lists; a larger limit is refused (400).',
  },
];

/** The `-c, --config` flag is not a config key; it is listed with the options for help and docs. */
export const CONFIG_FILE_OPTION = {
  flag: 'config',
  short: 'c',
  arg: '<path>',
  defaultPath: './sync-coordinator.json',
  description:
    'JSON config file with the same nested keys. The default file is read only if it exists; a file named with --config must exist.',
} as const;

export function optionFor(key: ConfigKey): ConfigOption {
  const option = CONFIG_OPTIONS.find((o) => o.key === key);
  if (option === undefined) throw new Error(`no config option ${key}`);
  return option;
}

/** The camelCase name commander gives the flag's value (`base-path` → `basePath`). */
export const attributeOf = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

export const defaultOf = (option: ConfigOption): unknown => getAt(DEFAULT_CONFIG, option.key);

export const flagsOf = (option: { flag: string; short?: string; arg: string }): string =>
  `${option.short === undefined ? '' : `-${option.short}, `}--${option.flag} ${option.arg}`;

/** A default as a person reads it: `2592000000 (30 d)`, `16777216 (16 MiB)`, `(none)`. */
export function formatDefault(option: ConfigOption): string {
  const value = defaultOf(option);
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(',');
  if (value === '') return '(none)';
  if (typeof value === 'number' && option.unit !== undefined) {
    const human = option.unit === 'ms' ? humanMs(value) : humanBytes(value);
    return human === undefined ? String(value) : `${value} (${human})`;
  }
  return String(value);
}

function humanMs(ms: number): string | undefined {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const unit = units.find(([size]) => ms >= size && ms % size === 0);
  return unit === undefined ? undefined : `${ms / unit[0]} ${unit[1]}`;
}

function humanBytes(n: number): string | undefined {
  const units: [number, string][] = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  const unit = units.find(([size]) => n >= size && n % size === 0);
  return unit === undefined ? undefined : `${n / unit[0]} ${unit[1]}`;
}
