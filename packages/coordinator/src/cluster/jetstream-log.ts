// The cluster's log of arrivals (docs/cluster.md): one JetStream stream, one subject per database.
// An apply is durable once JetStream acknowledges it (file storage, replicated), the stream
// sequence is the database's arrival order on every node, and a retried append carries the same
// message id, so JetStream keeps it once. This file knows bytes and sequences only; what an entry
// holds is the caller's business.
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, errors, nanos, type NatsConnection } from '@nats-io/transport-node';

export interface JetStreamLogOptions {
  /** Comma-separated NATS server URLs. */
  readonly servers: string;
  /** Subjects are `<prefix>.db.<database token>`; the stream is named after the prefix. */
  readonly subjectPrefix: string;
  /** Copies JetStream keeps of every entry (3 in production; at most the number of servers). */
  readonly replicas: number;
  /** How long JetStream remembers a message id, so a retry inside it is stored once. */
  readonly duplicateWindowMs: number;
  /** This node's name, shown in NATS monitoring. */
  readonly nodeName: string;
  /** Bound on one append's wait for JetStream's acknowledgement. */
  readonly ackTimeoutMs: number;
}

export interface AppendResult {
  /** The entry's stream sequence: its place in the arrival order. */
  readonly seq: number;
  /** True when JetStream already held an entry with this id (a retry): `seq` is the first one's. */
  readonly duplicate: boolean;
}

export interface LogEntry {
  readonly seq: number;
  readonly data: Uint8Array;
  /** When JetStream stored it (ms): the same on every node that reads it. */
  readonly time: number;
}

/** A value in the log's shared board (a JetStream KV bucket) and its revision, for compare-and-set. */
export interface BoardValue {
  readonly text: string;
  readonly revision: number;
}

/** A running read of one database's entries; `stop()` ends it. */
export interface LogTail {
  stop(): Promise<void>;
  /** Drops the current consumer and reads on from the last entry delivered through a new one. */
  renew(): void;
}

/**
 * A database id as one subject token: base64url of its UTF-8, so every id (hooks may allow any
 * string) is a valid token and no two ids share one.
 */
export function databaseToken(databaseId: string): string {
  return Buffer.from(databaseId, 'utf8').toString('base64url') || '_';
}

const streamNameOf = (prefix: string): string => `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_log`;

/** Longest a stopping tail waits for its consumer to close. */
const STOP_WAIT_MS = 2000;

/** How long a node starting during a JetStream leader election waits for it. */
const OPEN_WAIT_MS = 30_000;

/**
 * What a NATS cluster answers while it is still forming or electing leaders: a timeout, no
 * responders, or JetStream unable to place replicas on peers it does not know yet.
 */
function isTransient(err: unknown): boolean {
  if (err instanceof errors.TimeoutError || err instanceof errors.NoRespondersError) return true;
  return err instanceof JetStreamApiError && /no suitable peers|leader|temporarily/i.test(err.message);
}

/** Runs `request` again after a transient NATS failure until `withinMs` have passed; other errors at once. */
async function retryTimeouts<T>(withinMs: number, request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (!isTransient(err) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A KV bucket of the log (one value per key), made if missing; waits out a leader election. */
function openBucket(js: JetStreamClient, name: string, replicas: number): Promise<KV> {
  return retryTimeouts(OPEN_WAIT_MS, () =>
    new Kvm(js).create(name, { replicas, storage: StorageType.File, history: 1 }),
  );
}

export class JetStreamLog {
  private connectedNow = true;
  private readonly tails = new Set<LogTail>();
  private readonly boardBucket: string;
  private board: Promise<KV> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: JetStreamLogOptions,
    readonly streamName: string,
    private readonly sites: KV,
  ) {
    this.boardBucket = `${streamName}_board`;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.connectedNow = false;
        else if (status.type === 'reconnect') void this.untilStreamAnswers();
      }
    })();
  }

  /**
   * After a reconnect the servers may still be recovering the stream or electing its leader: the
   * node counts as connected (ready) once the stream answers again, and every tail then reads on
   * through a new consumer (one that outlived its servers may stay silent).
   */
  private async untilStreamAnswers(): Promise<void> {
    while (!this.nc.isClosed()) {
      try {
        await this.jsm.streams.info(this.streamName);
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    this.connectedNow = true;
    for (const tail of this.tails) tail.renew();
  }

  /** False while NATS or the stream does not answer (it reconnects by itself). */
  get connected(): boolean {
    return this.connectedNow && !this.nc.isClosed();
  }

  /** Largest entry the NATS server takes in one message. */
  get maxPayload(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  /** Connects and makes sure the stream exists with the given settings. */
  static async open(options: JetStreamLogOptions): Promise<JetStreamLog> {
    const nc = await connect({
      servers: options.servers.split(',').map((s) => s.trim()),
      name: options.nodeName,
      // A node keeps trying for as long as it runs; while NATS is away it refuses writes.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    });
    try {
      const streamName = streamNameOf(options.subjectPrefix);
      const config = {
        name: streamName,
        subjects: [`${options.subjectPrefix}.db.>`],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        num_replicas: options.replicas,
        duplicate_window: nanos(options.duplicateWindowMs),
      };
      // A cluster electing its JetStream leader (at start, or after losing a server) answers
      // nothing for a few seconds: a node that starts then waits instead of failing.
      const jsm = await retryTimeouts(OPEN_WAIT_MS, async () => {
        const manager = await jetstreamManager(nc, { timeout: options.ackTimeoutMs });
        try {
          await manager.streams.info(streamName);
          await manager.streams.update(streamName, config);
        } catch (err) {
          if (!(err instanceof JetStreamApiError) || !/not found/i.test(err.message)) throw err;
          await manager.streams.add(config);
        }
        return manager;
      });
      const js = jetstream(nc, { timeout: options.ackTimeoutMs });
      const sites = await openBucket(js, `${streamName}_sites`, options.replicas);
      return new JetStreamLog(nc, js, jsm, options, streamName, sites);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /**
   * The one value every node agrees on for `databaseId`: the first proposal stored
   * wins (JetStream KV create), every later caller reads it back.
   */
  async agree(databaseId: string, propose: () => Uint8Array): Promise<Uint8Array> {
    const key = databaseToken(databaseId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await this.sites.get(key);
      if (existing && existing.operation === 'PUT') return existing.value;
      try {
        await this.sites.create(key, propose());
      } catch (err) {
        // Another node created it first: read theirs on the next pass.
        if (!(err instanceof Error) || !/wrong last sequence|exists/i.test(err.message)) throw err;
      }
    }
    throw new Error(`no agreed value for database ${databaseId}`);
  }

  /** The shared board, made on first use (only S3 archiving in a cluster needs it). */
  private boardKv(): Promise<KV> {
    this.board ??= openBucket(this.js, this.boardBucket, this.options.replicas).catch((err: unknown) => {
      this.board = undefined;
      throw err;
    });
    return this.board;
  }

  /** `<name>.<database token>` on the board: undefined when absent or deleted. */
  async readBoard(name: string, databaseId: string): Promise<BoardValue | undefined> {
    const entry = await (await this.boardKv()).get(`${name}.${databaseToken(databaseId)}`);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { text: entry.string(), revision: entry.revision };
  }

  /**
   * Writes `text` only if the value is still at `revision` (undefined: only if absent); false when
   * another node wrote first.
   */
  async writeBoard(name: string, databaseId: string, text: string, revision?: number): Promise<boolean> {
    const kv = await this.boardKv();
    const key = `${name}.${databaseToken(databaseId)}`;
    try {
      if (revision === undefined) await kv.create(key, text);
      else await kv.update(key, text, revision);
      return true;
    } catch (err) {
      if (err instanceof Error && /wrong last sequence|exists/i.test(err.message)) return false;
      throw err;
    }
  }

  /** Removes the value if it is still at `revision`. */
  async clearBoard(name: string, databaseId: string, revision: number): Promise<void> {
    await (await this.boardKv()).delete(`${name}.${databaseToken(databaseId)}`, { previousSeq: revision });
  }

  /** Deletes the database's entries at or below `seq` from the stream. */
  async purgeThrough(databaseId: string, seq: number): Promise<number> {
    const { purged } = await this.jsm.streams.purge(this.streamName, {
      filter: this.subjectOf(databaseId),
      seq: seq + 1,
    });
    return purged;
  }

  subjectOf(databaseId: string): string {
    return `${this.options.subjectPrefix}.db.${databaseToken(databaseId)}`;
  }

  /** Resolves once JetStream has stored the entry durably (its acknowledgement), never before. */
  async append(databaseId: string, data: Uint8Array, msgId: string): Promise<AppendResult> {
    const ack = await this.js.publish(this.subjectOf(databaseId), data, {
      msgID: msgId,
      timeout: this.options.ackTimeoutMs,
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  /** The sequence of the database's newest entry, 0 when it has none. */
  async lastSeq(databaseId: string): Promise<number> {
    const msg = await this.jsm.streams.getMessage(this.streamName, { last_by_subj: this.subjectOf(databaseId) });
    return msg?.seq ?? 0;
  }

  /**
   * Delivers the database's entries with sequence > `afterSeq` in order, then every new one as it
   * is stored, until stopped. An ordered consumer, re-created after a reconnect from the last
   * sequence delivered; should it end anyway (every NATS server lost for a while, leaders being
   * elected), the tail starts a new one from there, so nothing is skipped or repeated.
   * `guard.refusal(last)` is asked before every consumer is opened: when it names a reason, the
   * tail ends there and `onEnd` is told it (the first time, `tail` itself rejects); when it
   * throws (it could not tell), the open is retried like any other failed one.
   */
  async tail(
    databaseId: string,
    afterSeq: number,
    onEntry: (entry: LogEntry) => void,
    guard?: { refusal(last: number): Promise<Error | undefined>; onEnd(err: Error): void },
  ): Promise<LogTail> {
    let last = afterSeq;
    let stopped = false;
    let current: { close(): Promise<void | Error> } | undefined;
    let refused: Error | undefined;
    const open = async () => {
      refused = await guard?.refusal(last);
      if (refused) throw refused;
      // While a lost server's streams elect new leaders (seconds), consumer requests go unanswered.
      const consumer = await retryTimeouts(this.options.ackTimeoutMs * 4, () =>
        this.js.consumers.get(this.streamName, {
          filter_subjects: this.subjectOf(databaseId),
          ...(last > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: last + 1 }
            : { deliver_policy: DeliverPolicy.All }),
        }),
      );
      const messages = await consumer.consume();
      current = messages;
      return messages;
    };
    const deliver = async (messages: Awaited<ReturnType<typeof open>>) => {
      for await (const m of messages) {
        if (m.seq <= last) continue;
        last = m.seq;
        onEntry({ seq: m.seq, data: m.data, time: Number(m.timestampNanos / 1_000_000n) });
      }
    };
    const first = await open();
    const done = (async () => {
      let messages: Awaited<ReturnType<typeof open>> | undefined = first;
      while (!stopped) {
        try {
          messages ??= await open();
          if (stopped) {
            await messages.close();
            break;
          }
          await deliver(messages);
        } catch {
          // Reopened below, from the last sequence delivered.
        }
        if (refused) {
          stopped = true;
          guard?.onEnd(refused);
          break;
        }
        messages = undefined;
        if (!stopped) await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const tail: LogTail = {
      stop: async () => {
        stopped = true;
        this.tails.delete(tail);
        // Bounded: with NATS away, closing a consumer or reopening one may not answer; the loop
        // sees `stopped` whenever it comes back and ends there.
        const bound = new Promise((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref());
        await Promise.race([Promise.all([current?.close(), done]), bound]);
      },
      renew() {
        void current?.close();
      },
    };
    this.tails.add(tail);
    return tail;
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
