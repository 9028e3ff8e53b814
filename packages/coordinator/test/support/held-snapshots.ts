// Snapshot streams held open mid-read: replicas whose snapshot pauses after its first chunk (the
// header) until release(), for tests of stream bounds and of shutdown during a stream.
import type { Replica, SnapshotOptions } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';

export class HeldSnapshots {
  /** True while some snapshot waits for release(), inside the engine's read. */
  reading = false;
  release: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve));

  /** `holds` picks the databases whose snapshots pause (all by default). */
  constructor(private readonly holds: (databaseId: string) => boolean = () => true) {}

  /** An OpenReplica for the server under test. */
  readonly open = (file: string, databaseId: string): Replica => {
    const replica = openSqliteReplica(file);
    if (!this.holds(databaseId)) return replica;
    // The server streams the chunks as wire text.
    const snapshot = replica.snapshotJson.bind(replica);
    replica.snapshotJson = (options?: SnapshotOptions) => this.paused(snapshot(options));
    return replica;
  };

  private async *paused<T>(chunks: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
    let first = true;
    for await (const chunk of chunks) {
      yield chunk;
      if (first) {
        this.reading = true;
        await this.gate;
        this.reading = false;
      }
      first = false;
    }
  }
}
