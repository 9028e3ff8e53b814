// The coordinator's configuration: the keys of PROTOCOL.md §9 (so a reference deployment's config
// keeps working) plus Syncord's own limits. Every limit is here, documented in README.md.

export const AUTH_MODES = ['none', 'token-whitelist', 'custom'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  };
  logging: { level: LogLevel };
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
  },
  stores: { maxOpenStores: 100, idleCloseMs: 5 * 60 * 1000, cleanupIntervalMs: 30 * 1000 },
  limits: {
    maxDatabaseIdLength: 255,
    maxMessageBytes: 16 * 1024 * 1024,
    maxBodyBytes: 16 * 1024 * 1024,
    maxChangeSetsPerApply: 10_000,
    maxChangesPerApply: 100_000,
  },
  logging: { level: 'info' },
};

/** A partial config as a file, environment or command line gives it; merged per section. */
export type PartialConfig = {
  [K in keyof CoordinatorConfig]?: CoordinatorConfig[K] extends object
    ? CoordinatorConfig[K] extends unknown[]
      ? CoordinatorConfig[K]
      : Partial<CoordinatorConfig[K]>
    : CoordinatorConfig[K];
};
