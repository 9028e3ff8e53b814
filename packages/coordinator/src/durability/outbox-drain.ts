// Drains one database's outbox into the bucket: oldest entries first, a few uploads at a time,
// each acknowledged (deleted from the outbox) only after S3 has it. A failure leaves the entry in
// place and waits with exponential backoff; nothing here is awaited by an apply. An upload that
// succeeded but was not acknowledged (crash) is sent again under the same key: never duplicated.
import type { Replica } from '@syncord/core';
import type { Logger } from 'pino';
import type { ArchiveLayout } from './archive-keys.js';
import { backoffDelay, Sleeper } from './backoff.js';
import { batchHead, batchObjectWrite } from './batch-record.js';
import type { ObjectStore } from './object-store.js';

/** Entries uploaded at once per database. */
const PARALLEL_UPLOADS = 4;

export interface DrainOptions {
  readonly retryMaxDelayMs: number;
  readonly log: Logger;
  readonly onUploaded?: (count: number) => void;
  readonly onFailed?: (count: number) => void;
}

export class OutboxDrain {
  private active = false;
  private done: Promise<void> = Promise.resolve();
  private failures = 0;
  private stopped = false;
  private readonly sleeper = new Sleeper();
  private readonly abort = new AbortController();
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly replica: Replica,
    private readonly layout: ArchiveLayout,
    private readonly store: ObjectStore,
    private readonly options: DrainOptions,
  ) {}

  /** Something was added to the outbox (or may be there): make sure a drain runs. */
  kick(): void {
    if (this.stopped || this.active) return;
    this.active = true;
    this.done = this.run();
  }

  /** Consecutive failed attempts (0 when the last one worked). */
  get failing(): number {
    return this.failures;
  }

  /**
   * Tries now (ending a backoff wait) and resolves true once the outbox is empty, or false when
   * `timeoutMs` passes first; the drain goes on either way until stopped.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (this.pending() === 0) return true;
    this.kick();
    this.sleeper.wake();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    const emptied = new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      this.idle.add(wake);
    });
    const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return (await Promise.race([emptied, expired])) || this.pending() === 0;
    } finally {
      clearTimeout(timer);
      if (wake) this.idle.delete(wake);
    }
  }

  /** Stops after the uploads in flight (they are aborted); entries left stay in the outbox. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    this.abort.abort();
    await this.done;
  }

  private pending(): number {
    try {
      return this.replica.outboxStats().count;
    } catch {
      return 0; // closed under us: nothing more can be drained from here
    }
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped) return;
        const entries = this.replica.outboxPeek(PARALLEL_UPLOADS);
        if (entries.length === 0) {
          for (const wake of this.idle) wake();
          return;
        }
        const results = await Promise.allSettled(entries.map((e) => this.upload(e.body)));
        let failed = 0;
        results.forEach((r, i) => {
          if (r.status === 'rejected') failed++;
          else this.ack(entries[i]!.id);
        });
        const uploaded = results.length - failed;
        if (uploaded > 0) this.options.onUploaded?.(uploaded);
        if (failed === 0) {
          if (this.failures > 0)
            this.options.log.info({ databaseId: this.layout.databaseId }, 'batch uploads recovered');
          this.failures = 0;
          continue;
        }
        this.options.onFailed?.(failed);
        this.failures++;
        const reason = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason as unknown;
        if (this.stopped) return;
        const delay = backoffDelay(this.failures, this.options.retryMaxDelayMs);
        // The first failure and then every tenth: an outage must be visible, not flood the log.
        if (this.failures === 1 || this.failures % 10 === 0) {
          this.options.log.warn(
            { databaseId: this.layout.databaseId, err: reason, failures: this.failures, retryInMs: delay },
            'batch upload failed; it stays in the outbox',
          );
        }
        await this.sleeper.sleep(delay);
      }
    } catch (err) {
      // The replica closed under the drain (shutdown, eviction): what is left stays in the outbox.
      if (!this.stopped) this.options.log.error({ databaseId: this.layout.databaseId, err }, 'outbox drain stopped');
    } finally {
      this.active = false;
    }
  }

  /** A replica closed meanwhile keeps the entry: it is sent again, under the same key, later. */
  private ack(id: number): void {
    try {
      this.replica.outboxAck(id);
    } catch {
      // closed under us
    }
  }

  private async upload(body: string): Promise<void> {
    const head = batchHead(body);
    const key = this.layout.key('batches', head.time, head.batchId);
    await this.store.put(key, body, batchObjectWrite(head), this.abort.signal);
  }
}
