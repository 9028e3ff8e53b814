// The databases a coordinator serves: the store manager (open on demand, LRU, idle close) wired to
// S3 durability (restore before open, outbox flush before close, eviction after) and to the start
// pass of housekeeping, so the service itself only ever asks for a database by id.
import { bytesEqual, encodeSiteId, type Replica, type ReplicaOptions, type SiteId } from '@syncord/core';
import { createSqliteReplicaFile, openSqliteReplica } from '@syncord/core/sqlite';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from '../config/types.js';
import { Durability } from '../durability/index.js';
import type { CoordinatorMetrics } from '../metrics/index.js';
import { StoreManager, type OpenReplica, type StoreManagerHooks } from '../stores/index.js';
import type { ArrivalStoreHooks } from './arrivals.js';
import type { DatabaseActivity } from './database-activity.js';
import { pruneReplica } from './maintenance.js';

/**
 * A database file as the server opens it. Coverage is guarded: any client can claim any site id,
 * so a reply may never raise what a watermark is recorded to cover (core watermarks.ts).
 */
export function openServerReplica(
  config: CoordinatorConfig,
  file: string,
  siteId?: SiteId,
  extra?: Pick<ReplicaOptions, 'onCoverage'>,
): Replica {
  return openSqliteReplica(file, {
    allowResurrection: config.sync.allowResurrection,
    guardCoverage: true,
    ...(siteId ? { siteId } : {}),
    ...extra,
  });
}

/**
 * A database file as a node opens it: created from the template with the site id the arrivals
 * give (a cluster's shared one), and refused if an existing file holds another.
 */
async function openArrivalReplica(
  config: CoordinatorConfig,
  hooks: ArrivalStoreHooks,
  file: string,
  databaseId: string,
): Promise<Replica> {
  const siteId = await hooks.siteIdFor(databaseId);
  await createSqliteReplicaFile(file, siteId ? { siteId } : {});
  const replica = openServerReplica(config, file, siteId, hooks.replicaOptions(databaseId));
  if (siteId && !bytesEqual(replica.siteId, siteId)) {
    replica.close();
    throw new Error(
      `The local file of database ${databaseId} has server site id ${encodeSiteId(replica.siteId)}, ` +
        `not the cluster's ${encodeSiteId(siteId)}: it was made outside this cluster; move it away to rebuild it from the cluster`,
    );
  }
  return replica;
}

export interface DatabaseStoresOptions {
  readonly config: CoordinatorConfig;
  readonly log: Logger;
  readonly metrics: CoordinatorMetrics;
  readonly activity: DatabaseActivity;
  readonly storeHooks?: StoreManagerHooks;
  /** How a database file is opened; openServerReplica by default. */
  readonly openReplica?: OpenReplica;
  /** Site ids, replica options and open/close steps from where applies are ordered (arrivals.ts). */
  readonly arrivalHooks: ArrivalStoreHooks;
}

export function createDatabaseStores(options: DatabaseStoresOptions): {
  stores: StoreManager;
  durability: Durability | undefined;
} {
  const { config, log, metrics, activity, storeHooks, arrivalHooks } = options;
  // A new database's file is made from the schema template off the event loop, then opened.
  const open =
    options.openReplica ??
    ((file: string, databaseId: string) => openArrivalReplica(config, arrivalHooks, file, databaseId));
  const durability = Durability.fromConfig({
    config,
    log,
    registry: metrics.registry,
    ...(storeHooks ? { storeHooks } : {}),
    ...(arrivalHooks.sharedArchive ? { shared: arrivalHooks.sharedArchive } : {}),
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
    beforeClose: async (databaseId: string, replica: Replica) => {
      await arrivalHooks.closing(databaseId);
      await durability?.beforeClose(databaseId, replica);
    },
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
      try {
        // A cluster node merges what the log holds for it before it serves anyone.
        await arrivalHooks.opened(databaseId, replica);
      } catch (err) {
        replica.close();
        throw err;
      }
      durability?.opened(databaseId, replica);
      return replica;
    },
  });
  return { stores, durability };
}
