// Databases that are closed but still on local disk. Each is drained of any outbox entries left
// behind (a crash, an outage at close) and, with disk eviction on, leaves local disk once it has
// been idle long enough, its outbox is empty and an image of it is in S3. Opening a database
// claims it first: work in progress on it is cancelled and waited for, so an eviction never
// removes a file the store manager is opening. Candidates found at start (files in dataDir with
// the default naming) are handled like databases just closed, aged by their modification time.
// In a cluster a node's file is only a copy of what the log and the archive hold: it is neither
// drained nor imaged, and eviction simply removes it.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Replica, SiteId } from '@syncord/core';
import type { Logger } from 'pino';
import type { CoordinatorConfig } from '../config/types.js';
import { defaultStorageName, removeDatabaseFiles, STORE_FILE_EXTENSION, unescapeDatabaseId } from '../stores/index.js';
import type { ArchiveLayout } from './archive-keys.js';
import { totalsOf, type DurabilityMetrics, type OutboxTotals } from './durability-metrics.js';
import { markEvicted } from './evicted-marker.js';
import { uploadImage } from './image.js';
import type { ObjectStore } from './object-store.js';
import type { OutboxDrain } from './outbox-drain.js';
import type { OpenFile } from './restore.js';
import { COPY_SUFFIX } from './shared-image.js';

interface Candidate {
  readonly file: string;
  readonly closedAt: number;
  /** Known to have an empty outbox. */
  clean: boolean;
  siteId?: SiteId;
  pending?: OutboxTotals;
}

interface Work {
  cancelled: boolean;
  onCancel?: () => void;
  readonly done: Promise<void>;
}

export interface ClosedDatabasesOptions {
  readonly config: CoordinatorConfig;
  readonly store: ObjectStore;
  readonly layoutFor: (databaseId: string) => ArchiveLayout;
  readonly openFile: OpenFile;
  /** The outbox drain of a database (the same set-up as for open ones). */
  readonly newDrain: (databaseId: string, replica: Replica) => OutboxDrain;
  readonly isOpen: (databaseId: string) => boolean;
  readonly metrics: DurabilityMetrics;
  readonly log: Logger;
  readonly now: () => number;
  /** After an image is uploaded (retention). */
  readonly onImage: (databaseId: string) => void;
  /** The database's arrivals live in a cluster's log (shared-archive.ts). */
  readonly sharedLog?: boolean;
}

export class ClosedDatabases {
  private readonly candidates = new Map<string, Candidate>();
  private readonly work = new Map<string, Work>();
  private pass: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: ClosedDatabasesOptions) {}

  closed(databaseId: string, file: string, info: { clean: boolean; siteId?: SiteId; pending?: OutboxTotals }): void {
    if (this.stopped) return;
    this.candidates.set(databaseId, { file, closedAt: this.options.now(), ...info });
  }

  /** Before the store manager opens `databaseId`: nothing may evict or drain it meanwhile. */
  async claim(databaseId: string): Promise<void> {
    this.candidates.delete(databaseId);
    for (let w = this.work.get(databaseId); w; w = this.work.get(databaseId)) {
      w.cancelled = true;
      w.onCancel?.();
      await w.done.catch(() => undefined);
    }
  }

  /** Files left in dataDir by an earlier run (default naming only: a hook's paths cannot be mapped back). */
  scan(dataDir: string): number {
    let entries: string[];
    try {
      entries = readdirSync(dataDir);
    } catch {
      return 0;
    }
    let found = 0;
    for (const name of entries) {
      const file = path.join(path.resolve(dataDir), name);
      if (
        name.includes(`${STORE_FILE_EXTENSION}.restoring-`) ||
        name.includes(`${STORE_FILE_EXTENSION}${COPY_SUFFIX}`)
      ) {
        rmSync(file, { force: true }); // an interrupted restore or image copy
        continue;
      }
      if (!name.endsWith(STORE_FILE_EXTENSION)) continue;
      const stem = name.slice(0, -STORE_FILE_EXTENSION.length);
      if (stem.includes('~')) continue;
      const databaseId = unescapeDatabaseId(stem);
      if (defaultStorageName(databaseId) !== stem || this.options.isOpen(databaseId)) continue;
      if (this.candidates.has(databaseId)) continue;
      const clean = this.options.sharedLog === true;
      this.candidates.set(databaseId, { file, closedAt: statSync(file).mtimeMs, clean });
      found++;
    }
    return found;
  }

  /** One pass over the candidates, one database at a time; a pass already running is joined. */
  tick(): Promise<void> {
    this.pass ??= this.runPass().finally(() => (this.pass = undefined));
    return this.pass;
  }

  totals(): OutboxTotals[] {
    return [...this.candidates.values()].flatMap((c) => (c.pending ? [c.pending] : []));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.work.values()) {
      w.cancelled = true;
      w.onCancel?.();
    }
    await this.pass;
  }

  private async runPass(): Promise<void> {
    const { config } = this.options;
    for (const [databaseId, candidate] of [...this.candidates]) {
      if (this.stopped) return;
      if (this.candidates.get(databaseId) !== candidate) continue;
      if (this.options.isOpen(databaseId) || !existsSync(candidate.file)) {
        this.candidates.delete(databaseId);
        continue;
      }
      try {
        if (!candidate.clean) await this.exclusive(databaseId, (w) => this.drain(databaseId, candidate, w));
        if (!candidate.clean) continue;
        if (!config.diskEviction.enabled) {
          this.candidates.delete(databaseId);
          continue;
        }
        if (this.options.now() - candidate.closedAt < config.diskEviction.idleMs) continue;
        await this.exclusive(databaseId, (w) => this.evict(databaseId, candidate, w));
      } catch (err) {
        this.options.log.warn({ databaseId, err }, 'closed database: drain or eviction failed; retried later');
      }
    }
  }

  private async exclusive(databaseId: string, run: (w: Work) => Promise<void>): Promise<void> {
    let settle!: () => void;
    const w: Work = { cancelled: false, done: new Promise<void>((resolve) => (settle = resolve)) };
    this.work.set(databaseId, w);
    try {
      await run(w);
    } finally {
      this.work.delete(databaseId);
      settle();
    }
  }

  private async drain(databaseId: string, candidate: Candidate, w: Work): Promise<void> {
    if (w.cancelled) return;
    const replica: Replica = this.options.openFile(candidate.file);
    try {
      candidate.siteId = replica.siteId;
      const drain = this.options.newDrain(databaseId, replica);
      w.onCancel = () => void drain.stop();
      await drain.flush(this.options.config.s3.flushTimeoutMs);
      await drain.stop();
      const stats = replica.outboxStats();
      candidate.clean = stats.count === 0;
      candidate.pending = stats.count === 0 ? undefined : totalsOf(stats);
    } finally {
      replica.close();
    }
  }

  private async evict(databaseId: string, candidate: Candidate, w: Work): Promise<void> {
    const { file } = candidate;
    if (w.cancelled) return;
    if (this.options.sharedLog) {
      this.remove(databaseId, candidate, '');
      return;
    }
    let siteId = candidate.siteId;
    if (siteId === undefined || existsSync(`${file}-wal`)) {
      // Opening and closing folds a leftover write-ahead log into the file, so the image is whole.
      const replica = this.options.openFile(file);
      siteId = replica.siteId;
      const empty = replica.outboxStats().count === 0;
      replica.close();
      if (!empty) {
        candidate.clean = false;
        return;
      }
    }
    const layout = this.options.layoutFor(databaseId);
    const key = layout.key('images', this.options.now(), globalThis.crypto.randomUUID());
    await uploadImage(this.options.store, key, file, databaseId, siteId);
    this.options.onImage(databaseId);
    // An open that arrived during the upload keeps the file (the image is merely one more base).
    if (w.cancelled || this.candidates.get(databaseId) !== candidate) return;
    this.remove(databaseId, candidate, key);
  }

  /** `image`: the key of the image that holds it ('' in a cluster, whose log and archive do). */
  private remove(databaseId: string, candidate: Candidate, image: string): void {
    removeDatabaseFiles(candidate.file);
    markEvicted(candidate.file, { databaseId, evictedAt: this.options.now(), image });
    this.candidates.delete(databaseId);
    this.options.metrics.evictionsTotal.inc();
    this.options.log.info(
      { databaseId, ...(image ? { key: image } : {}) },
      image
        ? 'database evicted from local disk (image in S3)'
        : 'database evicted from local disk (held by the cluster)',
    );
  }
}
