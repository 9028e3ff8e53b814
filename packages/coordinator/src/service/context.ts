// What the service's operations share; built once by CoordinatorService.
import type { Logger } from 'pino';
import type { CoordinatorConfig } from '../config/types.js';
import type { Durability } from '../durability/index.js';
import type { CoordinatorMetrics } from '../metrics/index.js';
import type { StoreManager } from '../stores/index.js';
import type { AuthSettings } from './authenticate.js';
import type { Arrivals } from './arrivals.js';
import type { Fanout } from './fanout.js';
import type { Slots } from './slots.js';
import type { CoordinatorHooks } from './types.js';

export interface ServiceContext {
  readonly config: CoordinatorConfig;
  readonly hooks: CoordinatorHooks;
  readonly stores: StoreManager;
  readonly metrics: CoordinatorMetrics;
  readonly fanout: Fanout;
  readonly log: Logger;
  readonly hookTimeoutMs: number;
  readonly auth: AuthSettings;
  /** Origin checks on (sync.originCheck resolved against auth.mode). */
  readonly strictOrigins: boolean;
  /** WebSocket sessions per database (limits.maxConnectionsPerDatabase). */
  readonly sessionSlots: Slots;
  /** Snapshot streams in progress, server-wide (limits.maxConcurrentSnapshots). */
  readonly snapshotSlots: Slots;
  /** S3 durability, when on: each apply records its batch and tells it. */
  readonly durability: Durability | undefined;
  /** Where every apply is ordered, made durable and merged (this process, or a cluster's log). */
  readonly arrivals: Arrivals;
}
