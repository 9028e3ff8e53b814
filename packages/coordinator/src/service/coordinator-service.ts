// What the coordinator does, with no network in sight: sessions, auth, hooks, catch-up, apply,
// broadcast, snapshots, shutdown. Transports (or an embedding app, or a test) drive it.
import {
  ProtocolError,
  type ChangeSet,
  type ChangesPageJson,
  type ErrorCode,
  type HLC,
  type SnapshotCheckpoint,
} from '@syncord/core';
import { pino, type Logger } from 'pino';
import type { CoordinatorConfig } from '../config/types.js';
import type { Durability } from '../durability/index.js';
import { createMetrics, type CoordinatorMetrics } from '../metrics/index.js';
import type { OpenReplica, StoreManager, StoreManagerHooks } from '../stores/index.js';
import { ClusterArrivals } from '../cluster/cluster-arrivals.js';
import { applyChanges, startApply, type PendingApply } from './apply-changes.js';
import { LocalArrivals, type Arrivals, type MergedListener } from './arrivals.js';
import { TokenWhitelist } from './authenticate.js';
import { broadcast } from './broadcast.js';
import { SyncConnection, type ConnectionHost, type ConnectionSink } from './connection.js';
import type { ServiceContext } from './context.js';
import { DataDirHealth } from './data-dir-health.js';
import { DatabaseActivity } from './database-activity.js';
import { createDatabaseStores } from './database-stores.js';
import { InProcessFanout, type Fanout } from './fanout.js';
import { changesStream, getChanges } from './get-changes.js';
import { LimitExceededError } from './errors.js';
import { Maintenance } from './maintenance.js';
import { originCheckIsStrict } from './origin-check.js';
import { openRequestSession, type RequestAuth, type RequestSession } from './request-session.js';
import type { Session } from './session.js';
import { Slots } from './slots.js';
import { snapshotStream } from './snapshot-stream.js';
import { SHUTTING_DOWN_MESSAGE } from './store-open.js';
import { TrackedStreams } from './tracked-streams.js';
import type { ApplyOutcome, CoordinatorHooks } from './types.js';

export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;

export interface CoordinatorServiceOptions {
  readonly config: CoordinatorConfig;
  readonly hooks?: CoordinatorHooks;
  readonly storeHooks?: StoreManagerHooks;
  readonly logger?: Logger;
  /** A fresh registry per service by default, so several services in one process never collide. */
  readonly metrics?: CoordinatorMetrics;
  /** In-process by default. */
  readonly fanout?: Fanout;
  /** Bound on every hook call; a hook that does not answer in time fails its operation. */
  readonly hookTimeoutMs?: number;
  /** How a database file is opened; openServerReplica by default. */
  readonly openReplica?: OpenReplica;
}

export interface CoordinatorStatus {
  readonly openStores: number;
  readonly connectedClients: number;
  /** Seconds since the service was created. */
  readonly uptime: number;
}

export class CoordinatorService implements ConnectionHost {
  readonly ctx: ServiceContext;
  readonly config: CoordinatorConfig;
  readonly metrics: CoordinatorMetrics;
  readonly stores: StoreManager;
  /** S3 durability; undefined when S3 is off (`s3.bucket` empty). */
  readonly durability: Durability | undefined;
  /** Last use and arrival rate of each open database (the admin page). */
  readonly activity = new DatabaseActivity();
  /** ms time the service was created. */
  readonly startedAtMs = Date.now();
  readonly log: Logger;
  /** Where applies are ordered and made durable: this process alone, or a cluster's log. */
  readonly arrivals: Arrivals;
  private readonly connections = new Set<SyncConnection>();
  private readonly sessions = new Set<Session>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly streams = new TrackedStreams<string>(
    () => new ProtocolError('SNAPSHOT_ERROR', 'Server shutting down'),
  );
  private readonly dataDirHealth: DataDirHealth;
  private readonly maintenance: Maintenance;
  private readonly startedAt = performance.now();
  private shuttingDown = false;
  private closed?: Promise<void>;

  constructor(options: CoordinatorServiceOptions) {
    const { config } = options;
    this.config = config;
    this.log = options.logger ?? pino({ level: 'silent' });
    this.metrics = options.metrics ?? createMetrics({ perDatabaseLabels: config.metrics.perDatabaseLabels });
    const fanout = options.fanout ?? new InProcessFanout();
    const onMerged: MergedListener = (databaseId, origin, applied) =>
      broadcast({ fanout, metrics: this.metrics, log: this.log }, databaseId, origin, applied);
    // The one place a cluster differs: where applies are ordered (docs/cluster.md "The seam").
    this.arrivals =
      config.cluster.natsUrl === ''
        ? new LocalArrivals(onMerged)
        : new ClusterArrivals({ config, log: this.log, metrics: this.metrics, onMerged });
    ({ stores: this.stores, durability: this.durability } = createDatabaseStores({
      config,
      log: this.log,
      metrics: this.metrics,
      activity: this.activity,
      arrivalHooks: this.arrivals.storeHooks,
      ...(options.storeHooks ? { storeHooks: options.storeHooks } : {}),
      ...(options.openReplica ? { openReplica: options.openReplica } : {}),
    }));
    const durability = this.durability;
    this.dataDirHealth = new DataDirHealth(config.dataDir, this.log);
    const hookTimeoutMs = options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    const hooks = options.hooks ?? {};
    this.ctx = {
      config,
      hooks,
      stores: this.stores,
      metrics: this.metrics,
      fanout,
      log: this.log,
      hookTimeoutMs,
      auth: { mode: config.auth.mode, whitelist: new TokenWhitelist(config.auth.tokens), hooks, hookTimeoutMs },
      strictOrigins: originCheckIsStrict(config),
      sessionSlots: new Slots(config.limits.maxConnectionsPerDatabase),
      snapshotSlots: new Slots(config.limits.maxConcurrentSnapshots),
      durability,
      arrivals: this.arrivals,
    };
    durability?.start(this.stores);
    this.maintenance = new Maintenance(this.stores, config.sync.retentionHorizonMs, this.log, (n) =>
      this.metrics.tombstonesPrunedTotal.inc(n),
    );
    this.maintenance.start(config.sync.maintenanceIntervalMs);
  }

  /** Connects what the service needs before it takes traffic (a cluster's NATS). */
  start(): Promise<void> {
    return this.arrivals.start();
  }

  /** False once shutdown began: new handshakes, requests and operations are refused. */
  get accepting(): boolean {
    return !this.shuttingDown;
  }

  /**
   * A new WebSocket-style connection; the transport calls `close()` on it when the socket ends.
   * Throws TOO_MANY_CONNECTIONS (a LimitExceededError) when `limits.maxConnections` are open.
   */
  connect(sink: ConnectionSink, transport: { request?: unknown; socket?: unknown } = {}): SyncConnection {
    const { maxConnections } = this.config.limits;
    if (this.connections.size >= maxConnections) {
      this.metrics.limitRejectionsTotal.inc({ limit: 'maxConnections' });
      throw new LimitExceededError(
        'TOO_MANY_CONNECTIONS',
        'maxConnections',
        `The server has all the connections it takes (maxConnections ${maxConnections}); try again later`,
        503,
      );
    }
    const connection = new SyncConnection(this, sink, transport);
    this.connections.add(connection);
    this.metrics.wsConnectionsTotal.inc();
    this.metrics.wsConnectionsActive.inc();
    return connection;
  }

  /** A session for one HTTP request; call `end()` when the response is finished. */
  openRequest(input: RequestAuth): Promise<RequestSession> {
    if (this.shuttingDown) return Promise.reject(new ProtocolError('STORAGE_UNAVAILABLE', SHUTTING_DOWN_MESSAGE));
    return openRequestSession(this.ctx, input);
  }

  getChanges(session: Session, sinceHLC?: HLC): Promise<ChangeSet[]> {
    this.activity.touch(session.databaseId);
    return this.track('GET_CHANGES_ERROR', () => getChanges(this.ctx, session, sinceHLC));
  }

  /**
   * The whole catch-up as pages (WebSocket). Not held by drain(): it stops by itself at the next
   * page once shutdown begins or `stopped()` (the connection closed) turns true.
   */
  changesStream(
    session: Session,
    sinceHLC: HLC | undefined,
    stopped: () => boolean,
  ): AsyncGenerator<ChangesPageJson, void, undefined> {
    if (this.shuttingDown) {
      // eslint-disable-next-line require-yield
      return (async function* () {
        throw new ProtocolError('GET_CHANGES_ERROR', 'Server shutting down');
      })();
    }
    return changesStream(this.ctx, session, sinceHLC, () => this.shuttingDown || stopped());
  }

  applyChanges(session: Session, changeSets: readonly ChangeSet[]): Promise<ApplyOutcome> {
    return this.track('APPLY_CHANGES_ERROR', async () =>
      this.noteApplied(session, applyChanges(this.ctx, session, changeSets)),
    );
  }

  /** An apply in two steps: resolves once queued for its group commit; `done` after the commit. */
  startApply(session: Session, changeSets: readonly ChangeSet[]): Promise<PendingApply> {
    return this.track('APPLY_CHANGES_ERROR', async () => {
      const pending = await startApply(this.ctx, session, changeSets);
      // In flight until committed (added before the queuing step leaves the set), so a drain waits for it.
      this.hold(pending.done);
      void this.noteApplied(session, pending.done).catch(() => undefined);
      return pending;
    });
  }

  /**
   * The snapshot chunks in order (PROTOCOL.md §5), as wire text; a resume is checked before it is honoured. A
   * stream is tracked from its first chunk until it ends, so close() ends it before the stores close.
   */
  snapshot(session: Session, resume?: SnapshotCheckpoint): AsyncGenerator<string, void, undefined> {
    this.activity.touch(session.databaseId);
    return this.streams.track(() => {
      if (this.shuttingDown) throw new ProtocolError('SNAPSHOT_ERROR', 'Server shutting down');
      return snapshotStream(this.ctx, session, resume);
    });
  }

  status(): CoordinatorStatus {
    return {
      openStores: this.stores.openCount,
      connectedClients: this.sessions.size,
      uptime: (performance.now() - this.startedAt) / 1000,
    };
  }

  /**
   * Why the service should not get traffic now ([] when it should): shutting down, or a data
   * directory that does not take a write (checked on every call). Safe to show to anyone: no paths.
   */
  readinessProblems(): string[] {
    const problems: string[] = [];
    if (this.shuttingDown) problems.push('shutting down');
    const dataDir = this.dataDirHealth.check();
    if (dataDir) problems.push(dataDir);
    problems.push(...this.arrivals.readinessProblems());
    return problems;
  }

  /** S3 durability: off, or whether batch uploads currently keep failing (they wait in the outbox). */
  s3State(): 'off' | 'ok' | 'failing' {
    if (!this.durability) return 'off';
    return this.durability.writesFailing ? 'failing' : 'ok';
  }

  /** Stops accepting: later handshakes, requests and operations are refused. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  /** Resolves when every get/apply already started has finished (and answered). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Asks every connection's transport to close its socket. */
  closeConnections(code = 1001, reason = 'Server shutting down'): void {
    for (const connection of [...this.connections]) connection.shutdown(code, reason);
  }

  /**
   * Graceful stop for use without a transport: refuse new work, finish in-flight applies, close
   * connections (1001), tear sessions down, close every store. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.beginShutdown();
      await this.drain();
      this.closeConnections();
      for (const connection of [...this.connections]) connection.close();
      this.maintenance.stop();
      // A snapshot stream still reading (an HTTP response, a caller of snapshot()) ends at its next
      // chunk: its engine read must be over before its database closes.
      await this.streams.endAll();
      // Each store's close flushes its outbox first (bounded by s3.flushTimeoutMs, all at once).
      await this.stores.closeAll();
      await this.durability?.close();
      await this.arrivals.close();
    })();
    return this.closed;
  }

  /** Prunes tombstones past the retention horizon in every open database now. */
  runMaintenance(): number {
    return this.maintenance.runOnce();
  }

  sessionStarted(_connection: SyncConnection, session: Session): void {
    this.sessions.add(session);
    this.metrics.databaseSessions.inc(session.databaseId);
    this.activity.touch(session.databaseId);
  }

  sessionEnded(_connection: SyncConnection, session: Session): void {
    if (this.sessions.delete(session)) this.metrics.databaseSessions.dec(session.databaseId);
  }

  connectionClosed(connection: SyncConnection): void {
    if (this.connections.delete(connection)) this.metrics.wsConnectionsActive.dec();
  }

  /** Passes the apply's outcome through, recording what it applied. */
  private async noteApplied(session: Session, outcome: Promise<ApplyOutcome>): Promise<ApplyOutcome> {
    const result = await outcome;
    this.activity.applied(session.databaseId, result.applied);
    return result;
  }

  private track<T>(code: ErrorCode, run: () => Promise<T>): Promise<T> {
    if (this.shuttingDown) return Promise.reject(new ProtocolError(code, 'Server shutting down'));
    return this.hold(run());
  }

  private hold<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = () => this.inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }
}
