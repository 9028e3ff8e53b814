// The cluster's side of S3 archiving (durability/shared-archive.ts): the archiving turn of a
// database is a lease on the log's board, taken with compare-and-set; how far the bucket holds
// every batch and how far the log was trimmed are board values too, so every node reads the same.
import type { Replica } from '@syncord/core';
import type { MergedEntryArchiver, SharedArchive } from '../durability/shared-archive.js';
import { mergedSeqOf } from './database-merger.js';
import type { JetStreamLog } from './jetstream-log.js';

interface Lease {
  readonly node: string;
  /** ms time until which the holder may archive without renewing. */
  readonly until: number;
}

function parseLease(text: string): Lease | undefined {
  try {
    const lease = JSON.parse(text) as Partial<Lease>;
    return typeof lease.node === 'string' && typeof lease.until === 'number'
      ? { node: lease.node, until: lease.until }
      : undefined;
  } catch {
    return undefined;
  }
}

export class ClusterArchive implements SharedArchive {
  /** Set by durability when S3 is on; merges record batches only then. */
  archiver: MergedEntryArchiver | undefined;

  constructor(
    private readonly log: () => JetStreamLog,
    /** Unique per process: two nodes given the same name still hold distinct turns. */
    private readonly holderId: string,
    readonly turnMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  attach(archiver: MergedEntryArchiver): void {
    this.archiver = archiver;
  }

  async claim(databaseId: string): Promise<{ held: boolean; until: number }> {
    const log = this.log();
    const current = await log.readBoard('turn', databaseId);
    const lease = current && parseLease(current.text);
    const now = this.now();
    if (lease && lease.node !== this.holderId && lease.until > now) return { held: false, until: lease.until };
    const until = now + this.turnMs;
    const mine = JSON.stringify({ node: this.holderId, until } satisfies Lease);
    // Lost a race to another node: look again soon, its turn is read then.
    if (!(await log.writeBoard('turn', databaseId, mine, current?.revision))) return { held: false, until: now };
    return { held: true, until };
  }

  async release(databaseId: string): Promise<void> {
    const log = this.log();
    const current = await log.readBoard('turn', databaseId);
    if (current && parseLease(current.text)?.node === this.holderId) {
      await log.clearBoard('turn', databaseId, current.revision);
    }
  }

  archivedThrough(databaseId: string): Promise<number> {
    return this.readPosition('archived', databaseId);
  }

  async markArchived(databaseId: string, position: number): Promise<void> {
    await this.raise('archived', databaseId, position);
  }

  trimmedThrough(databaseId: string): Promise<number> {
    return this.readPosition('trimmed', databaseId);
  }

  async trimThrough(databaseId: string, position: number): Promise<void> {
    // Said first: a node that opens meanwhile knows its older copy cannot catch up from the log.
    await this.raise('trimmed', databaseId, position);
    await this.log().purgeThrough(databaseId, position);
  }

  positionOf(replica: Replica): number {
    return mergedSeqOf(replica);
  }

  private async readPosition(name: string, databaseId: string): Promise<number> {
    const value = await this.log().readBoard(name, databaseId);
    return value ? Number(value.text) || 0 : 0;
  }

  /** Positions only ever grow: a write that lost a race to a higher one is dropped. */
  private async raise(name: string, databaseId: string, position: number): Promise<void> {
    const log = this.log();
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await log.readBoard(name, databaseId);
      if (current && (Number(current.text) || 0) >= position) return;
      if (await log.writeBoard(name, databaseId, String(position), current?.revision)) return;
    }
  }
}
