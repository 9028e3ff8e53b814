// S3 archiving when a database's arrival order lives in a shared log (a cluster, docs/cluster.md
// "S3 in a cluster"). Every node that merges an entry records its batch in its own outbox, under a
// key and body derived from the entry alone (the same bytes on every node), but only the node that
// holds the database's archiving turn (a lease on the log's board) uploads, takes the snapshots and
// trims the log. It publishes how far the bucket holds every batch; the others drop their records
// up to there. A turn that lapses (its node died) passes to another node that has the database
// open, whose outbox still holds every record past that point, so no batch is missing and, as
// keys are derived, none is stored twice.
import { createHash } from 'node:crypto';
import type { ApplyResult, ChangeSet, Replica, SiteId } from '@syncord/core';
import type { Logger } from 'pino';
import { batchHead } from './batch-record.js';
import type { OutboxDrain } from './outbox-drain.js';

/** What the shared log offers the archive (implemented over JetStream by the cluster). */
export interface SharedArchive {
  /** How long a turn lasts unless renewed (it is renewed at half of it). */
  readonly turnMs: number;
  /** Durability says how a merged entry's batch is recorded and is told of every merge. */
  attach(archiver: MergedEntryArchiver): void;
  /**
   * Takes or renews this node's archiving turn for the database: whether it holds it now, and
   * until when the turn (its own, or another node's) runs.
   */
  claim(databaseId: string): Promise<{ readonly held: boolean; readonly until: number }>;
  /** Gives the turn up (the database closes here). */
  release(databaseId: string): Promise<void>;
  /** Every batch of an entry at or below this log position is in the bucket (0: none yet). */
  archivedThrough(databaseId: string): Promise<number>;
  markArchived(databaseId: string, position: number): Promise<void>;
  /** The log holds no entry of the database at or below this position (0: never trimmed). */
  trimmedThrough(databaseId: string): Promise<number>;
  /** Drops the database's entries at or below `position` from the log. */
  trimThrough(databaseId: string, position: number): Promise<void>;
  /** The log position a replica has merged through. */
  positionOf(replica: Replica): number;
}

/** One merged log entry whose batch is to be recorded. */
export interface MergedEntry {
  readonly position: number;
  /** When the log stored it (ms): the batch's time. */
  readonly time: number;
  readonly clientId: SiteId;
  readonly allowed: readonly ChangeSet[];
}

export interface MergedEntryArchiver {
  /** The outbox record of a merged entry, built inside its merge (called only when applied > 0). */
  batchRecord(databaseId: string, replica: Replica, entry: MergedEntry): (result: ApplyResult) => string;
  /** Entries were merged into the database here (`applied` facts). */
  merged(databaseId: string, applied: number): void;
}

/** A batch id derived from the database and the entry's position: every node names it alike. */
export function sharedBatchId(serverSiteId: SiteId, position: number): string {
  const hex = createHash('sha256').update(serverSiteId).update(`:${position}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The log position a recorded batch belongs to (0 for a record without one). */
function positionOfRecord(body: string): number {
  try {
    return batchHead(body).logSeq ?? 0;
  } catch {
    return 0;
  }
}

/** How often each open database's turn is looked after: a quarter of a turn, at most a second. */
export function turnTickMs(turnMs: number): number {
  return Math.min(1_000, Math.floor(turnMs / 4));
}

/** One open database's share of the archiving: its turn, and its outbox kept to what is not yet archived. */
export class SharedTurn {
  private held = false;
  /** When the turn is next renewed (held) or looked at again (another node's). */
  private lookAt = 0;
  private archived = 0;
  /** The log may be trimmed through here once archived that far (the image before the newest). */
  private trimTo = 0;
  private trimmed = 0;
  private running: Promise<void> | undefined;
  private closing = false;

  constructor(
    private readonly databaseId: string,
    private readonly replica: Replica,
    private readonly drain: OutboxDrain,
    private readonly shared: SharedArchive,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** True while this node holds the database's archiving turn. */
  get holder(): boolean {
    return this.held;
  }

  /** One step (a step still running is joined): keep or take the turn, then publish or tidy. */
  tick(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.running ??= this.step()
      .catch((err: unknown) =>
        this.log.warn({ databaseId: this.databaseId, err }, 'archiving turn: step failed; tried again'),
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * A new image holds the database through `position`; the one before it through `previous`. The
   * log keeps everything past the previous one, so a copy that fell a whole snapshot interval
   * behind still finds its next entries there.
   */
  imageTaken(previous: number | undefined): void {
    if (previous !== undefined && previous > this.trimTo) this.trimTo = previous;
  }

  /** Before the database closes here: a holder flushes, publishes and gives the turn up. */
  async close(flushTimeoutMs: number): Promise<void> {
    this.closing = true;
    await this.running;
    if (this.held) {
      await this.drain.flush(flushTimeoutMs);
      await this.publish().catch(() => undefined);
      await this.shared.release(this.databaseId).catch(() => undefined);
      this.held = false;
    }
    await this.drain.stop();
  }

  private async step(): Promise<void> {
    // Another node's turn is looked at again only when it would run out: a node with many open
    // databases asks the board about each once a turn, not once a tick.
    if (this.now() >= this.lookAt) await this.look();
    if (!this.held) return;
    this.drain.kick();
    await this.publish();
    await this.trim();
  }

  /** Keeps or takes the turn and reads how far the bucket is complete. */
  private async look(): Promise<void> {
    const was = this.held;
    const turn = await this.shared.claim(this.databaseId);
    this.held = turn.held;
    const now = this.now();
    this.lookAt = turn.held ? now + this.shared.turnMs / 2 : Math.max(turn.until, now + 1);
    this.archived = Math.max(this.archived, await this.shared.archivedThrough(this.databaseId));
    if (this.held && !was) {
      this.log.info({ databaseId: this.databaseId, archivedThrough: this.archived }, 'archiving turn taken');
    }
    // Records the bucket already holds go first: a node taking the turn uploads only the rest.
    this.dropArchived();
  }

  /** The holder: how far every batch is in the bucket, from its outbox and merged position. */
  private async publish(): Promise<void> {
    // Read together, in one turn of the event loop, so no merge falls between them.
    const position = this.shared.positionOf(this.replica);
    const oldest = this.replica.outboxPeek(1)[0];
    const through = oldest ? positionOfRecord(oldest.body) - 1 : position;
    if (through <= this.archived) return;
    await this.shared.markArchived(this.databaseId, through);
    this.archived = through;
  }

  /** Never past what the bucket holds: a trimmed entry's batch could not be made again. */
  private async trim(): Promise<void> {
    const through = Math.min(this.trimTo, this.archived);
    if (through <= this.trimmed) return;
    this.trimmed = Math.max(this.trimmed, await this.shared.trimmedThrough(this.databaseId));
    if (through <= this.trimmed) return;
    await this.shared.trimThrough(this.databaseId, through);
    this.trimmed = through;
    this.log.info({ databaseId: this.databaseId, through }, 'cluster log trimmed below the previous image');
  }

  /** Records at or below what the holder published are in the bucket already. */
  private dropArchived(): void {
    for (;;) {
      const entries = this.replica.outboxPeek(100);
      let dropped = 0;
      for (const entry of entries) {
        if (positionOfRecord(entry.body) > this.archived) return;
        this.replica.outboxAck(entry.id);
        dropped++;
      }
      if (dropped < 100) return;
    }
  }
}
