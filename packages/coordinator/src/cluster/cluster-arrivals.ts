// Arrivals for one node of a cluster (docs/cluster.md): an apply is appended to its database's
// subject in the JetStream log and answered once JetStream acknowledged it (durable) and this node
// merged it (so the client reads its write back here). Every node with the database open merges
// every entry in stream order and broadcasts what it changed to its own sessions.
import { hostname } from 'node:os';
import {
  checkDrift,
  decodeSiteId,
  encodeSiteId,
  maxChangeSetHlc,
  newSiteId,
  ProtocolError,
  type CoverageNote,
  type Replica,
  type SiteId,
} from '@syncord/core';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from '../config/types.js';
import type { CoordinatorMetrics } from '../metrics/index.js';
import type {
  ArrivalRequest,
  Arrivals,
  ArrivalStoreHooks,
  MergedArrival,
  MergedListener,
} from '../service/arrivals.js';
import { ClusterArchive } from './cluster-archive.js';
import { createClusterMetrics, type ClusterMetrics } from './cluster-metrics.js';
import { DatabaseMerger, type ApplyWaiter } from './database-merger.js';
import { JetStreamLog } from './jetstream-log.js';
import { encodeEntry } from './log-entry.js';

export interface ClusterArrivalsOptions {
  readonly config: CoordinatorConfig;
  readonly log: Logger;
  readonly metrics: CoordinatorMetrics;
  readonly onMerged: MergedListener;
}

/** How long JetStream remembers an entry id, so a retried append is stored once. */
const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

function unavailable(what: string, err: unknown): ProtocolError {
  return new ProtocolError('STORAGE_UNAVAILABLE', `The cluster log is unavailable (${what}); try again later`, {
    cause: err,
  });
}

export class ClusterArrivals implements Arrivals {
  private log: JetStreamLog | undefined;
  private readonly mergers = new Map<string, DatabaseMerger>();
  private readonly waiters = new Map<string, ApplyWaiter>();
  private readonly nodeName: string;
  private readonly nonceBase = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  private nonces = 0;
  readonly storeHooks: ArrivalStoreHooks;
  private readonly metrics: ClusterMetrics;
  private readonly archive: ClusterArchive;

  constructor(private readonly options: ClusterArrivalsOptions) {
    this.metrics = createClusterMetrics(options.metrics.registry, () => this.log?.connected ?? false);
    this.nodeName = options.config.cluster.nodeName || `${hostname()}-${process.pid}`;
    this.archive = new ClusterArchive(
      () => this.started,
      `${this.nodeName}.${this.nonceBase}`,
      options.config.cluster.archiveTurnMs,
    );
    this.storeHooks = {
      sharedArchive: this.archive,
      siteIdFor: (databaseId) => this.siteIdFor(databaseId),
      replicaOptions: (databaseId) => ({ onCoverage: (note) => this.shareCoverage(databaseId, note) }),
      opened: (databaseId, replica) => this.opened(databaseId, replica),
      closing: (databaseId) => this.closing(databaseId),
    };
  }

  private get cluster(): CoordinatorConfig['cluster'] {
    return this.options.config.cluster;
  }

  async start(): Promise<void> {
    if (this.log) return;
    const { cluster } = this;
    this.log = await JetStreamLog.open({
      servers: cluster.natsUrl,
      subjectPrefix: cluster.subjectPrefix,
      replicas: cluster.replicas,
      duplicateWindowMs: DUPLICATE_WINDOW_MS,
      nodeName: this.nodeName,
      ackTimeoutMs: cluster.ackTimeoutMs,
    });
    const { maxMessageBytes } = this.options.config.limits;
    if (this.log.maxPayload < maxMessageBytes) {
      this.options.log.warn(
        { maxPayload: this.log.maxPayload, maxMessageBytes },
        'NATS max_payload is below limits.maxMessageBytes: an apply larger than max_payload is refused',
      );
    }
    this.options.log.info(
      { node: this.nodeName, stream: this.log.streamName, replicas: cluster.replicas },
      'cluster node connected to NATS JetStream',
    );
  }

  private get started(): JetStreamLog {
    if (!this.log) throw unavailable('not connected yet', undefined);
    return this.log;
  }

  async submit(databaseId: string, _replica: Replica, request: ArrivalRequest): Promise<MergedArrival> {
    const log = this.started;
    const merger = this.mergerOf(databaseId);
    const max = maxChangeSetHlc(request.changeSets);
    // Checked once, here: every node then merges the entry whatever its own clock says.
    if (max) checkDrift(max.wallTime, Date.now());
    const nonce = `${this.nonceBase}.${++this.nonces}`;
    const data = encodeEntry({
      kind: 'apply',
      nonce,
      siteId: request.siteId,
      checkOrigins: request.checkOrigins,
      changeSets: request.changeSets,
    });
    if (data.length > log.maxPayload) {
      throw new ProtocolError(
        'APPLY_CHANGES_ERROR',
        `Apply too large for the cluster log: ${data.length} bytes > NATS max_payload ${log.maxPayload}; send fewer changes per apply`,
      );
    }
    const merged = new Promise<MergedArrival>((resolve, reject) => this.waiters.set(nonce, { resolve, reject }));
    // Settled by the merge, or dropped below; never left unhandled.
    merged.catch(() => undefined);
    const stopTimer = this.metrics.appendSeconds.startTimer();
    try {
      try {
        const { seq } = await log.append(databaseId, data, nonce);
        await merger.waitFor(seq, this.cluster.ackTimeoutMs).catch(() => {
          if (merger.broken) throw merger.broken;
          merger.renewTail();
          return merger.waitFor(seq, this.cluster.ackTimeoutMs);
        });
      } catch (err) {
        this.metrics.appendsTotal.inc({ result: 'failed' });
        throw unavailable(merger.broken ? 'merging here failed' : 'no acknowledgement', err);
      }
      // Stored and merged here: a rejection now is the merge's own verdict on the apply (the same
      // on every node), reported as a single node reports it, not as an outage.
      const outcome = await merged;
      stopTimer();
      this.metrics.appendsTotal.inc({ result: 'ok' });
      return outcome;
    } finally {
      this.waiters.delete(nonce);
    }
  }

  async caughtUp(databaseId: string): Promise<void> {
    const log = this.started;
    const merger = this.mergerOf(databaseId);
    let last: number;
    try {
      last = await log.lastSeq(databaseId);
    } catch (err) {
      throw unavailable('no answer', err);
    }
    const wait = this.cluster.ackTimeoutMs;
    try {
      await merger.waitFor(last, wait).catch(() => {
        if (merger.broken) throw merger.broken;
        merger.renewTail();
        return merger.waitFor(last, wait);
      });
    } catch (err) {
      throw unavailable('this node is behind', err);
    }
  }

  readinessProblems(): string[] {
    if (!this.log) return ['cluster log (NATS) not connected yet'];
    return this.log.connected ? [] : ['cluster log (NATS) unreachable'];
  }

  async close(): Promise<void> {
    await Promise.all([...this.mergers.values()].map((m) => m.stop()));
    this.mergers.clear();
    await this.log?.close();
    this.log = undefined;
  }

  private mergerOf(databaseId: string): DatabaseMerger {
    const merger = this.mergers.get(databaseId);
    if (!merger) throw unavailable('database not open on this node', undefined);
    if (merger.broken) throw unavailable('merging here failed', merger.broken);
    return merger;
  }

  /** One server site id per database on every node, so client watermarks hold across nodes. */
  private async siteIdFor(databaseId: string): Promise<SiteId> {
    const agreed = await this.started.agree(databaseId, () => new TextEncoder().encode(encodeSiteId(newSiteId())));
    return decodeSiteId(new TextDecoder().decode(agreed), 'cluster site id');
  }

  private async opened(databaseId: string, replica: Replica): Promise<void> {
    const merger = new DatabaseMerger(databaseId, replica, {
      log: this.started,
      logger: this.options.log,
      waiters: this.waiters,
      onMerged: this.options.onMerged,
      onEntry: (local) => this.metrics.entriesMergedTotal.inc({ origin: local ? 'local' : 'remote' }),
      archive: this.archive,
    });
    this.mergers.set(databaseId, merger);
    try {
      await merger.start();
      // A node that opens a database serves it only once it holds what the cluster acknowledged.
      await this.caughtUp(databaseId);
    } catch (err) {
      this.mergers.delete(databaseId);
      await merger.stop().catch(() => undefined);
      throw err;
    }
  }

  private async closing(databaseId: string): Promise<void> {
    const merger = this.mergers.get(databaseId);
    this.mergers.delete(databaseId);
    await merger?.stop();
  }

  /**
   * A coverage record written here goes into the log, so every node records it too and honours the
   * watermark it covers. Best effort: a lost one costs a fuller catch-up on another node, no fact.
   */
  private shareCoverage(databaseId: string, note: CoverageNote): void {
    const log = this.log;
    if (!log) return;
    const nonce = `${this.nonceBase}.${++this.nonces}`;
    log.append(databaseId, encodeEntry({ kind: 'coverage', note }), nonce).catch((err: unknown) => {
      this.options.log.debug({ err, databaseId }, 'coverage record not shared');
    });
  }
}
