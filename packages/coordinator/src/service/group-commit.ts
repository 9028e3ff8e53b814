// Group commit per database: applies that reach one database while the event loop is busy (with
// a commit, often) are merged into one transaction with one fsync at the next turn, instead of
// paying one durable commit each. Each keeps its own all-or-nothing result (a savepoint in the
// engine), and every promise settles only after the shared COMMIT, so acknowledged still means
// durable.
import type { ApplyBatch, ApplyResult, Replica } from '@syncord/core';

interface Job {
  readonly build: () => ApplyBatch;
  readonly resolve: (result: ApplyResult) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommit {
  private readonly queues = new Map<Replica, Job[]>();

  /**
   * Queues one apply; `build` runs inside the group's transaction right before this apply merges
   * (after the applies queued before it), so checks it makes see their writes.
   */
  submit(replica: Replica, build: () => ApplyBatch): Promise<ApplyResult> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(replica);
      if (!queue) {
        this.queues.set(replica, (queue = []));
        // setImmediate, not a microtask: messages already read from the sockets join this group.
        setImmediate(() => this.flush(replica));
      }
      queue.push({ build, resolve, reject });
    });
  }

  private flush(replica: Replica): void {
    const jobs = this.queues.get(replica) ?? [];
    this.queues.delete(replica);
    let results: Array<ApplyResult | Error>;
    try {
      results = replica.applyGroup(jobs.map((job) => job.build));
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    jobs.forEach((job, i) => {
      const result = results[i];
      if (result === undefined || result instanceof Error) job.reject(result ?? new Error('no result'));
      else job.resolve(result);
    });
  }
}
