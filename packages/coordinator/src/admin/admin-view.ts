// The admin page's data, transport-free: the server overview, the paged database list, one
// database's detail and a page of one table's rows. Nothing here opens a database unless the
// caller asks (`open`), and the list costs one directory read plus work for the page it returns.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { encodeHLC, encodeSiteId, encodeSqlValue, encodeSqlValues, type Replica } from '@syncord/core';
import { readEvicted, readMark } from '../durability/index.js';
import type { CoordinatorService } from '../service/index.js';
import { InvalidDatabaseIdError, StoragePathError } from '../stores/index.js';
import { AdminError, type DatabaseQuery, type RowsQuery } from './admin-query.js';
import { fileFacts, mergeListing, scanDataDir, type DiskEntry, type ListedDatabase } from './database-listing.js';
import { countsBy, totalOf } from './metric-values.js';
import type { AdminOverview, AdminS3, DatabaseDetail, DatabasePage, DatabaseSummary, RowsPage } from './types.js';

/** A directory read serves the requests of this long (a page polls the overview and the list together). */
const DIR_CACHE_MS = 1000;
/**
 * Table counts scan every cell of the database, and an open detail panel polls every 2 s. A count
 * is reused while nothing arrived since; while writes arrive, for this many times what it cost to
 * make, so counting a large database stays a small share of the server's time (~2%) and a small
 * one stays fresh.
 */
const COUNTS_REUSE_FACTOR = 50;

export class AdminView {
  private dirCache: { at: number; entries: Map<string, DiskEntry> } | undefined;
  private readonly countsCache = new Map<
    string,
    { replica: Replica; seq: number; until: number; tables: ReturnType<Replica['tableCounts']> }
  >();

  constructor(
    private readonly service: CoordinatorService,
    private readonly now: () => number = Date.now,
  ) {}

  async overview(): Promise<AdminOverview> {
    const { metrics, config, stores } = this.service;
    const status = this.service.status();
    const listing = this.listing();
    const count = (state: string) => listing.filter((d) => d.state === state).length;
    const active = await totalOf(metrics.wsConnectionsActive);
    const memory = process.memoryUsage();
    return {
      sampledAt: this.now(),
      server: {
        startedAt: this.service.startedAtMs,
        uptimeSeconds: status.uptime,
        nodeVersion: process.version,
        basePath: config.basePath,
        authMode: config.auth.mode,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
      },
      cluster: {
        mode: 'single',
        nodes: [
          {
            id: hostname(),
            self: true,
            status: 'up',
            startedAt: this.service.startedAtMs,
            connections: active,
            openDatabases: stores.openCount,
          },
        ],
      },
      connections: {
        active,
        accepted: await totalOf(metrics.wsConnectionsTotal),
        sessions: status.connectedClients,
      },
      counters: {
        changeSetsReceived: await totalOf(metrics.changesReceivedTotal),
        changesApplied: await totalOf(metrics.changesAppliedTotal),
        changeSetsRejected: await totalOf(metrics.changesRejectedTotal),
        changeSetsBroadcast: await totalOf(metrics.changesBroadcastTotal),
        broadcastErrors: await totalOf(metrics.broadcastErrorsTotal),
        snapshotRequests: await totalOf(metrics.snapshotRequestsTotal),
        authFailures: await totalOf(metrics.authFailuresTotal),
        errors: await totalOf(metrics.errorsTotal),
      },
      errorsByCode: await countsBy(metrics.errorsTotal, 'code'),
      limitsHit: await countsBy(metrics.limitRejectionsTotal, 'limit'),
      databases: { open: stores.openCount, closed: count('closed'), evicted: count('evicted'), total: listing.length },
      limits: {
        maxConnections: config.limits.maxConnections,
        maxOpenStores: config.stores.maxOpenStores,
        maxConnectionsPerDatabase: config.limits.maxConnectionsPerDatabase,
      },
      s3: await this.s3(),
    };
  }

  databases(query: DatabaseQuery): DatabasePage {
    const sessions = this.service.metrics.databaseSessions;
    let all = this.listing();
    if (query.filter !== '') all = all.filter((d) => d.databaseId.toLowerCase().includes(query.filter));
    const byId = (a: ListedDatabase, b: ListedDatabase) =>
      a.databaseId < b.databaseId ? -1 : a.databaseId > b.databaseId ? 1 : 0;
    all.sort(
      query.sort === 'sessions'
        ? (a, b) => sessions.get(b.databaseId) - sessions.get(a.databaseId) || byId(a, b)
        : byId,
    );
    const open = this.openReplicas();
    const items = all
      .slice(query.offset, query.offset + query.limit)
      .map((d) => this.summary(d, open.get(d.databaseId)));
    return { total: all.length, offset: query.offset, limit: query.limit, items };
  }

  /** One database; its replica part only when open, or opened because `open` asks for it. */
  async database(databaseId: string, open: boolean): Promise<DatabaseDetail> {
    const listed = this.find(databaseId);
    if (!this.service.stores.isOpen(listed.databaseId) && !open) return this.summary(listed, undefined);
    return this.withReplica(listed, (replica) => {
      const mark = this.service.durability ? readMark(replica) : undefined;
      return {
        ...this.summary({ databaseId: listed.databaseId, state: 'open' }, replica),
        replica: {
          siteId: encodeSiteId(replica.siteId),
          lastSeq: replica.lastSeq,
          outboxDepth: replica.outboxStats().count,
          // An unsnapshotted database's mark holds its first open with sequence 0.
          ...(mark && mark.seq > 0 ? { lastSnapshotAt: mark.at } : {}),
          tables: this.tableCounts(listed.databaseId, replica),
        },
      };
    });
  }

  private tableCounts(databaseId: string, replica: Replica): ReturnType<Replica['tableCounts']> {
    const now = this.now();
    const cached = this.countsCache.get(databaseId);
    const fresh =
      cached !== undefined && cached.replica === replica && (cached.seq === replica.lastSeq || now < cached.until);
    if (fresh) return cached.tables;
    // One entry per database an operator looked at; forgotten with the store (a new replica object).
    for (const id of [...this.countsCache.keys()]) if (!this.service.stores.isOpen(id)) this.countsCache.delete(id);
    const started = performance.now();
    const tables = replica.tableCounts();
    const until = now + (performance.now() - started) * COUNTS_REUSE_FACTOR;
    this.countsCache.set(databaseId, { replica, seq: replica.lastSeq, until, tables });
    return tables;
  }

  async rows(databaseId: string, query: RowsQuery, open: boolean): Promise<RowsPage> {
    const listed = this.find(databaseId);
    if (!this.service.stores.isOpen(listed.databaseId) && !open) {
      throw new AdminError(409, 'DATABASE_NOT_OPEN', `${listed.databaseId} is ${listed.state}; add open=1 to open it`);
    }
    return this.withReplica(listed, (replica) => {
      const page = replica.readRowPage(query.schema, query.table, query.limit, query.after);
      return {
        databaseId: listed.databaseId,
        schema: query.schema,
        table: query.table,
        rows: page.rows.map((row) => ({
          pk: encodeSqlValues(row.pk),
          cells: row.cells.map((c) => ({
            column: c.column,
            value: encodeSqlValue(c.value),
            hlc: encodeHLC(c.hlc),
            wallTime: Number(c.hlc.wallTime),
            counter: c.hlc.counter,
            site: encodeSiteId(c.hlc.siteId),
            seq: c.seq,
          })),
        })),
        ...(page.next !== undefined ? { next: page.next } : {}),
      };
    });
  }

  private listing(): ListedDatabase[] {
    const now = this.now();
    if (!this.dirCache || now - this.dirCache.at >= DIR_CACHE_MS || now < this.dirCache.at) {
      this.dirCache = { at: now, entries: scanDataDir(this.service.config.dataDir) };
    }
    return mergeListing(this.service.stores.openDatabaseIds(), this.dirCache.entries);
  }

  private openReplicas(): Map<string, Replica> {
    const out = new Map<string, Replica>();
    this.service.stores.forEachOpen((databaseId, replica) => out.set(databaseId, replica));
    return out;
  }

  /** The database as listed now; 400 for an id the server refuses, 404 for one it does not have. */
  private find(databaseId: string): ListedDatabase {
    const { stores } = this.service;
    let id: string;
    let file: string;
    try {
      id = stores.validateDatabaseId(databaseId);
      file = stores.filePathFor(id);
    } catch (err) {
      if (err instanceof InvalidDatabaseIdError || err instanceof StoragePathError)
        throw new AdminError(400, 'INVALID_DATABASE_ID', err.message);
      throw err;
    }
    if (stores.isOpen(id)) return { databaseId: id, state: 'open' };
    if (existsSync(file)) return { databaseId: id, state: 'closed' };
    if (this.service.durability && readEvicted(file)) return { databaseId: id, state: 'evicted' };
    throw new AdminError(404, 'DATABASE_NOT_FOUND', `No database ${JSON.stringify(id)} on this server`);
  }

  /** Reads through a store reference, so the database cannot close under the read. */
  private async withReplica<T>(listed: ListedDatabase, read: (replica: Replica) => T): Promise<T> {
    const handle = await this.service.stores.acquire(listed.databaseId);
    try {
      return read(handle.replica);
    } finally {
      handle.release();
    }
  }

  private summary(listed: ListedDatabase, replica: Replica | undefined): DatabaseSummary {
    const { databaseId, state } = listed;
    const sessions = this.service.metrics.databaseSessions.get(databaseId);
    const base = { databaseId, state, sessions };
    const file = this.service.stores.filePathFor(databaseId);
    if (state === 'evicted') {
      const marker = readEvicted(file);
      return marker ? { ...base, evictedAt: marker.evictedAt, lastActivityAt: marker.evictedAt } : base;
    }
    const facts = fileFacts(file);
    const disk = facts ? { fileBytes: facts.bytes, lastActivityAt: facts.modifiedAt } : {};
    if (state !== 'open' || !replica) return { ...base, ...disk };
    const activity = this.service.activity.get(databaseId);
    let lastSeq: number | undefined;
    try {
      lastSeq = replica.lastSeq;
    } catch {
      // closing under us: listed without it
    }
    return {
      ...base,
      ...disk,
      ...(activity ? activity : {}),
      ...(lastSeq !== undefined ? { lastSeq } : {}),
    };
  }

  private async s3(): Promise<AdminS3> {
    const durability = this.service.durability;
    if (!durability) return { enabled: false };
    const totals = durability.outboxTotals();
    const m = durability.metrics;
    return {
      enabled: true,
      bucket: this.service.config.s3.bucket,
      outboxDepth: totals.depth,
      ...(totals.oldestAt !== undefined ? { outboxOldestAt: totals.oldestAt } : {}),
      ...(durability.lastSnapshot ? { lastSnapshot: durability.lastSnapshot } : {}),
      batchUploads: await totalOf(m.batchUploadsTotal),
      batchUploadFailures: await totalOf(m.batchUploadFailuresTotal),
      snapshots: await totalOf(m.snapshotsTotal),
      snapshotFailures: await totalOf(m.snapshotFailuresTotal),
      restores: await totalOf(m.restoresTotal),
      restoreFailures: await totalOf(m.restoreFailuresTotal),
      evictions: await totalOf(m.evictionsTotal),
    };
  }
}
