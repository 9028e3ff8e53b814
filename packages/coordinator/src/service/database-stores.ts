// The databases a coordinator serves: the store manager (open on demand, LRU, idle close) wired to
// S3 durability (restore before open, outbox flush before close, eviction after) and to the start
// pass of housekeeping, so the service itself only ever asks for a database by id.
import type { Replica, SiteId } from '@syncord/core';
import { createSqliteReplicaFile, openSqliteReplica } from '@syncord/core/sqlite';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from '../config/types.js';
import { Durability } from '../durability/index.js';
import type { CoordinatorMetrics } from '../metrics/index.js';
import { StoreManager, type OpenReplica, type StoreManagerHooks } from '../stores/index.js';
import type { DatabaseActivity } from './database-activity.js';
import { pruneReplica } from './maintenance.js';

/**
 * A database file as the server opens it. Coverage is guarded: any client can claim any site id,
 * so a reply may never raise what a watermark is recorded to cover (core watermarks.ts).
 */
export function openServerReplica(config: CoordinatorConfig, file: string, siteId?: SiteId): Replica {
  return openSqliteReplica(file, {
    allowResurrection: config.sync.allowResurrection,
    guardCoverage: true,
    ...(siteId ? { siteId } : {}),
  });
}

export interface DatabaseStoresOptions {
  readonly config: CoordinatorConfig;
  readonly log: Logger;
  readonly metrics: CoordinatorMetrics;
  readonly activity: DatabaseActivity;
  readonly storeHooks?: StoreManagerHooks;
  /** How a database file is opened; openServerReplica by default. */
  readonly openReplica?: OpenReplica;
}

export function createDatabaseStores(options: DatabaseStoresOptions): {
  stores: StoreManager;
  durability: Durability | undefined;
} {
  const { config, log, metrics, activity, storeHooks } = options;
  // A new database's file is made from the schema template off the event loop, then opened.
  const open =
    options.openReplica ??
    (async (file: string) => {
      await createSqliteReplicaFile(file);
      return openServerReplica(config, file);
    });
  const durability = Durability.fromConfig({
    config,
    log,
    registry: metrics.registry,
    ...(storeHooks ? { storeHooks } : {}),
    openFile: (file, siteId) => openServerReplica(config, file, siteId),
  });
  const stores = new StoreManager({
    dataDir: config.dataDir,
    maxOpenStores: config.stores.maxOpenStores,
    idleCloseMs: config.stores.idleCloseMs,
    cleanupIntervalMs: config.stores.cleanupIntervalMs,
    maxDatabaseIdLength: config.limits.maxDatabaseIdLength,
    hooks: storeHooks,
    logger: log,
    onOpenCountChange: (n) => metrics.openStores.set(n),
    ...(durability
      ? { beforeClose: (databaseId: string, replica: Replica) => durability.beforeClose(databaseId, replica) }
      : {}),
    afterClose: (databaseId: string, file: string) => {
      activity.forget(databaseId);
      durability?.afterClose(databaseId, file);
    },
    openReplica: async (file, databaseId) => {
      // A database with no local file is restored from S3 first (evicted, or the disk was lost).
      await durability?.prepareOpen(databaseId, file);
      const replica = await open(file, databaseId);
      // The start pass of housekeeping: a database is pruned before it serves anyone.
      metrics.tombstonesPrunedTotal.inc(pruneReplica(replica, databaseId, config.sync.retentionHorizonMs, log));
      durability?.opened(databaseId, replica);
      return replica;
    },
  });
  return { stores, durability };
}
