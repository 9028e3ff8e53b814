// One node's copy of one database, kept as a materialization of its subject in the cluster log:
// entries are merged strictly in stream order, whichever node appended them, so every node's
// file goes through the same states. Entries that arrive while the event loop is busy merge in
// one transaction (a group commit, as a single node does for its sockets).
import type { ChangeSet, Replica, SiteId } from '@syncord/core';
import type { Logger } from 'pino';
import { arrivalBatch, type ArrivalRequest, type MergedArrival } from '../service/arrivals.js';
import { storageErrorCode } from '../service/errors.js';
import type { ClusterArchive } from './cluster-archive.js';
import type { JetStreamLog, LogEntry, LogTail } from './jetstream-log.js';
import { decodeEntry, type ApplyEntry, type LogEntryBody } from './log-entry.js';

/** Where the last merged stream sequence is kept in the replica (committed with the merge). */
export const MERGED_SEQ_KEY = 'cluster.mergedSeq';

/** The stream sequence a replica has merged through (0 for a new file). */
export function mergedSeqOf(replica: Replica): number {
  return Number(replica.getLocal(MERGED_SEQ_KEY) ?? '0');
}

/**
 * Arrival sequences an entry may use: entry n's facts are numbered from n × this, so a position
 * means the same on every node (core ApplyOptions.arrivalSeqFloor) and 2^33 entries still fit.
 */
export const SEQS_PER_ENTRY = 2 ** 20;

/**
 * Merges commit without a sync: the log is the durable copy, and what a crash takes from the
 * file (the merged sequence with it, same transaction) is merged again from the log on restart.
 */
const NOT_SYNCED = { durable: false } as const;

/** The node that appended an apply is waiting for its outcome. */
export interface ApplyWaiter {
  resolve(merged: MergedArrival): void;
  reject(err: Error): void;
}

export interface MergerDeps {
  readonly log: JetStreamLog;
  readonly logger: Logger;
  /** Applies appended by this node, by nonce. */
  readonly waiters: Map<string, ApplyWaiter>;
  readonly onMerged: (databaseId: string, origin: SiteId, applied: readonly ChangeSet[]) => void;
  /** Told of every apply entry merged; `local` when this node appended it. */
  readonly onEntry?: (local: boolean) => void;
  /** With S3 on, every merged apply records its batch (durability/shared-archive.ts). */
  readonly archive?: ClusterArchive;
}

interface SeqWaiter {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class DatabaseMerger {
  private mergedSeq: number;
  private queue: LogEntry[] = [];
  private scheduled = false;
  private tail: LogTail | undefined;
  private seqWaiters: SeqWaiter[] = [];
  private closed = false;
  /** A local write failed (disk full, I/O error): this copy stops until the database reopens. */
  private failure: Error | undefined;

  constructor(
    readonly databaseId: string,
    private readonly replica: Replica,
    private readonly deps: MergerDeps,
  ) {
    this.mergedSeq = mergedSeqOf(replica);
  }

  /** The stream sequence of the newest entry merged here. */
  get merged(): number {
    return this.mergedSeq;
  }

  async start(): Promise<void> {
    const { archive } = this.deps;
    // With S3 on the log may be trimmed below an image: a tail that would resume below the trim
    // point would skip entries, so it stops there and this copy waits for a reopen (and restore).
    const guard = archive?.archiver
      ? {
          refusal: async (last: number) => {
            const trimmed = await archive.trimmedThrough(this.databaseId);
            return trimmed > last
              ? new Error(`this copy merged through ${last} but the log was trimmed through ${trimmed}`)
              : undefined;
          },
          onEnd: (err: Error) => this.fail(err),
        }
      : undefined;
    this.tail = await this.deps.log.tail(this.databaseId, this.mergedSeq, (entry) => this.enqueue(entry), guard);
  }

  /** Set once merging failed for a storage reason; the copy is then behind until reopened. */
  get broken(): Error | undefined {
    return this.failure;
  }

  /** Resolves once the entry at `seq` (and all before it) is merged here, or rejects after `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<void> {
    if (this.mergedSeq >= seq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.seqWaiters = this.seqWaiters.filter((w) => w !== waiter);
        reject(new Error(`entry ${seq} of database ${this.databaseId} not merged within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: SeqWaiter = {
        seq,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.seqWaiters.push(waiter);
    });
  }

  /**
   * A consumer that outlived every NATS server may stay silent after they return: reading on
   * through a new one costs nothing when the old one was fine (entries are never merged twice).
   */
  renewTail(): void {
    this.tail?.renew();
  }

  async stop(): Promise<void> {
    await this.tail?.stop();
    // What arrived before the stop is merged, so the file is as far along as the tail got.
    this.flush();
    this.closed = true;
  }

  private enqueue(entry: LogEntry): void {
    if (this.closed) return;
    this.queue.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.failure) return;
    const entries = this.queue;
    this.queue = [];
    let group: Array<{ seq: number; time: number; entry: ApplyEntry }> = [];
    for (const raw of entries) {
      // A redelivery after a reconnect never merges an entry twice.
      if (raw.seq <= this.mergedSeq) continue;
      const entry = this.decode(raw);
      if (entry?.kind === 'apply') {
        group.push({ seq: raw.seq, time: raw.time, entry });
        continue;
      }
      if (!this.mergeApplies(group)) return;
      group = [];
      try {
        if (entry?.kind === 'coverage') this.replica.applyCoverage(entry.note);
        this.replica.setLocal(MERGED_SEQ_KEY, String(raw.seq), NOT_SYNCED);
      } catch (err) {
        this.fail(err);
        return;
      }
      this.advance(raw.seq);
    }
    this.mergeApplies(group);
  }

  private fail(err: unknown): void {
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.deps.logger.error(
      { err, databaseId: this.databaseId, mergedSeq: this.mergedSeq },
      'merging the cluster log failed: this node stops serving the database until it reopens',
    );
    for (const w of this.seqWaiters) w.reject(this.failure);
    this.seqWaiters = [];
  }

  private decode(raw: LogEntry): LogEntryBody | undefined {
    try {
      return decodeEntry(raw.data);
    } catch (err) {
      this.deps.logger.error({ err, databaseId: this.databaseId, seq: raw.seq }, 'cluster log entry skipped');
      return undefined;
    }
  }

  /** False when a storage failure stopped the merge (nothing of the group is then merged here). */
  private mergeApplies(group: ReadonlyArray<{ seq: number; time: number; entry: ApplyEntry }>): boolean {
    if (group.length === 0) return true;
    const archiver = this.deps.archive?.archiver;
    const steps = group.map(({ seq, time, entry }) => {
      const request: ArrivalRequest = archiver
        ? {
            ...entry,
            outbox: (allowed) =>
              archiver.batchRecord(this.databaseId, this.replica, {
                position: seq,
                time,
                clientId: entry.siteId,
                allowed,
              }),
          }
        : entry;
      const step = arrivalBatch(this.replica, request, { arrivalSeqFloor: seq * SEQS_PER_ENTRY });
      const build = () => {
        this.replica.setLocal(MERGED_SEQ_KEY, String(seq));
        return step.build();
      };
      return { seq, entry, step, build };
    });
    const results = this.replica.applyGroup(
      steps.map((s) => s.build),
      NOT_SYNCED,
    );
    const storageFailure = results.find((r) => r instanceof Error && storageErrorCode(r) !== undefined);
    if (storageFailure) {
      this.fail(storageFailure);
      return false;
    }
    let appliedFacts = 0;
    steps.forEach(({ entry, step }, i) => {
      const result = results[i];
      if (result !== undefined && !(result instanceof Error)) appliedFacts += result.applied;
      const waiter = this.deps.waiters.get(entry.nonce);
      this.deps.onEntry?.(waiter !== undefined);
      if (result === undefined || result instanceof Error) {
        // Every node fails the same entry the same way (a merge is deterministic): nobody has it.
        waiter?.reject(result ?? new Error('no result'));
        return;
      }
      const applied = step.applied();
      if (applied.length > 0) this.deps.onMerged(this.databaseId, entry.siteId, applied);
      waiter?.resolve(step.outcome(result));
    });
    this.advance(group[group.length - 1]!.seq);
    archiver?.merged(this.databaseId, appliedFacts);
    return true;
  }

  private advance(seq: number): void {
    this.mergedSeq = seq;
    if (this.seqWaiters.length === 0) return;
    const ready = this.seqWaiters.filter((w) => w.seq <= seq);
    this.seqWaiters = this.seqWaiters.filter((w) => w.seq > seq);
    for (const w of ready) w.resolve();
  }
}
