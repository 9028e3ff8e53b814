// The app-facing sync handle: connect a LocalDatabase to a coordinator, keep it connected
// (jittered exponential backoff, reset only after a successful handshake, stopped by fatal
// errors), and report status, errors and refused changes as events.
import type { SiteId } from '@syncord/core';
import type { LocalDatabase } from '../database/local-database.js';
import { Emitter } from '../util/emitter.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { SessionHost, SessionOptions, SessionTarget } from './session-host.js';
import { PendingWrites } from './pending-writes.js';
import { SyncSession } from './session.js';
import { defaultSocketFactory, type SocketFactory } from './socket.js';
import { SyncError, type RejectedChange, type SyncStatus } from './status.js';
import type { UnknownServerMessage } from '@syncord/core';

export interface SyncClientOptions {
  /** Data changes per pushed batch (whole transactions). Default 1000. */
  readonly batchSize?: number;
  /** Reconnect backoff, or false to stay offline after a disconnect. */
  readonly reconnect?: BackoffOptions | false;
  /** Give up on a connection whose handshake is not acknowledged in time. Default 15 000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Abort a snapshot transfer that receives no chunk for this long. Default 60 000 ms. */
  readonly snapshotChunkTimeoutMs?: number;
  /** Local commits within this window are pushed together. Default 10 ms. */
  readonly pushDebounceMs?: number;
  /** Take a snapshot when the replica holds nothing from the server yet. Default true. */
  readonly bootstrapOnEmpty?: boolean;
  /** Ping the server this often and reconnect when two intervals pass in silence; 0 disables. Default 30 000 ms. */
  readonly heartbeatMs?: number;
  /** Opens sockets; default: the global WebSocket, else the `ws` package. */
  readonly webSocket?: SocketFactory;
}

export interface ConnectOptions {
  /** Sent in the handshake; what the server's auth checks. */
  readonly token?: string;
}

export interface SyncClientEvents {
  status: SyncStatus;
  error: SyncError;
  rejected: RejectedChange;
  /** A server message of a type this client does not know. */
  message: UnknownServerMessage;
  /** `pendingWrites` changed; the new count. */
  pending: number;
}

const DEFAULTS = {
  batchSize: 1000,
  handshakeTimeoutMs: 15_000,
  snapshotChunkTimeoutMs: 60_000,
  pushDebounceMs: 10,
  bootstrapOnEmpty: true,
  heartbeatMs: 30_000,
} as const;

export class SyncClient {
  private readonly events = new Emitter<SyncClientEvents>();
  private readonly options: SessionOptions;
  private readonly backoff: Backoff | undefined;
  private readonly socketFactory: () => Promise<SocketFactory>;
  private current: SyncStatus = { state: 'offline' };
  private requestCount = 0;
  private active = false;
  /** Which connect() the running loop belongs to; a stale loop never touches the state. */
  private generation = 0;
  private session: SyncSession | undefined;
  private loop: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  private serverSite: SiteId | undefined;
  private readonly pending: PendingWrites;

  constructor(
    readonly db: LocalDatabase,
    options: SyncClientOptions = {},
  ) {
    this.options = {
      batchSize: positive(options.batchSize ?? DEFAULTS.batchSize, 'batchSize'),
      handshakeTimeoutMs: positive(options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs, 'handshakeTimeoutMs'),
      snapshotChunkTimeoutMs: positive(
        options.snapshotChunkTimeoutMs ?? DEFAULTS.snapshotChunkTimeoutMs,
        'snapshotChunkTimeoutMs',
      ),
      pushDebounceMs: nonNegative(options.pushDebounceMs ?? DEFAULTS.pushDebounceMs, 'pushDebounceMs'),
      bootstrapOnEmpty: options.bootstrapOnEmpty ?? DEFAULTS.bootstrapOnEmpty,
      heartbeatMs: nonNegative(options.heartbeatMs ?? DEFAULTS.heartbeatMs, 'heartbeatMs'),
      // A push the rate limit dropped is re-sent with the reconnect delays.
      retryBackoff:
        options.reconnect === false || options.reconnect === undefined ? DEFAULT_BACKOFF : options.reconnect,
    };
    this.backoff = options.reconnect === false ? undefined : new Backoff(options.reconnect ?? {});
    const factory = options.webSocket;
    this.socketFactory = factory ? () => Promise.resolve(factory) : defaultSocketFactory;
    this.pending = new PendingWrites(db, this.options.batchSize, (count) => this.events.emit('pending', count));
    // Remote changes never add a write of ours.
    db.subscribe((change) => {
      if (change.source === 'local') this.pending.committed(change.changeSets.length);
      else if (change.source === 'snapshot') this.pending.invalidate();
    });
  }

  get status(): SyncStatus {
    return this.current;
  }

  /**
   * Local transactions the server has not acknowledged yet, connected or not (a write it refused
   * with a `rejected` event counts as answered). A push refused outright (APPLY_CHANGES_ERROR)
   * stays counted: it is sent again on the next connection. The `pending` event tells changes.
   */
  get pendingWrites(): number {
    return this.pending.count;
  }

  /** The server site id of the last successful handshake. */
  get serverSiteId(): SiteId | undefined {
    return this.serverSite;
  }

  on<K extends keyof SyncClientEvents>(event: K, listener: (payload: SyncClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /**
   * Connects and keeps the database in sync until disconnect(). Resolves on the first successful
   * handshake; while the server is unreachable it keeps retrying (writes stay local meanwhile).
   * Rejects on a fatal error (bad token, protocol mismatch), or when disconnect() comes first.
   */
  connect(url: string, databaseId: string, options: ConnectOptions = {}): Promise<void> {
    if (this.active) return Promise.reject(new Error('SyncClient is already connected; disconnect() first'));
    if (this.db.isClosed) return Promise.reject(new Error('LocalDatabase is closed'));
    if (typeof url !== 'string' || !/^wss?:\/\//i.test(url)) {
      return Promise.reject(new TypeError(`url must be a ws:// or wss:// URL, got ${String(url)}`));
    }
    if (typeof databaseId !== 'string' || databaseId.length === 0) {
      return Promise.reject(new TypeError('databaseId must be a non-empty string'));
    }
    if (options.token !== undefined && typeof options.token !== 'string') {
      return Promise.reject(new TypeError('token must be a string'));
    }
    const target: SessionTarget = { url, databaseId, ...(options.token !== undefined ? { token: options.token } : {}) };
    this.active = true;
    this.backoff?.reset();
    let settle!: { resolve: () => void; reject: (err: unknown) => void };
    const connected = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    connected.catch(() => {});
    // A loop a disconnect() just stopped may still be winding down; this one starts after it.
    const generation = ++this.generation;
    const previous = this.loop;
    this.loop = (async () => {
      await previous;
      await this.run(target, settle, generation);
    })();
    return connected;
  }

  /** Closes the connection and stops reconnecting. Persisted sync state stays for next time. */
  async disconnect(): Promise<void> {
    this.active = false;
    this.wakeSleep?.();
    this.session?.close();
    await this.loop;
  }

  /**
   * Resolves the next time the client is synced (now, if it is); rejects on a fatal error, or
   * with a SyncError `TIMEOUT` when `timeoutMs` passes first.
   */
  whenSynced(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.current.state === 'synced') return Promise.resolve();
    if (this.current.state === 'error') return Promise.reject(this.current.error);
    const { timeoutMs } = options;
    if (timeoutMs !== undefined) nonNegative(timeoutMs, 'timeoutMs');
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (err?: unknown): void => {
        off();
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      const off = this.events.on('status', (s) => {
        if (s.state === 'synced') settle();
        else if (s.state === 'error') settle(s.error);
      });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const state = this.current.state;
          settle(new SyncError('TIMEOUT', `Not synced within ${timeoutMs} ms (status: ${state})`));
        }, timeoutMs);
      }
    });
  }

  private async run(
    target: SessionTarget,
    settle: { resolve: () => void; reject: (err: unknown) => void },
    generation: number,
  ): Promise<void> {
    const current = (): boolean => this.active && this.generation === generation;
    let everConnected = false;
    while (current()) {
      const session = new SyncSession(
        this.host(target, () => {
          everConnected = true;
          settle.resolve();
        }),
      );
      this.session = session;
      const attempts = this.backoff?.attemptCount ?? 0;
      const end = await session.run();
      this.session = undefined;
      // A server shedding load (rate limit, too many connections) accepted the handshake but
      // not the work: the next attempt backs off further instead of starting over at the base.
      if (end.throttled) this.backoff?.restore(attempts);
      if (end.fatal && current()) {
        this.active = false;
        this.setStatus({ state: 'error', error: end.fatal });
        settle.reject(end.fatal);
        return;
      }
      // A closed database cannot sync; reconnecting would only fail again.
      if (!current() || !this.backoff || this.db.isClosed) break;
      const delay = this.backoff.next();
      this.setStatus({ state: 'offline', retryInMs: delay, ...(end.cause ? { cause: end.cause } : {}) });
      await this.sleep(delay);
    }
    if (!everConnected) settle.reject(new SyncError('DISCONNECTED', 'Disconnected before the first handshake'));
    if (this.generation !== generation) return;
    this.active = false;
    this.setStatus({ state: 'offline' });
  }

  private host(target: SessionTarget, onHandshake: () => void): SessionHost {
    return {
      db: this.db,
      options: this.options,
      target,
      socketFactory: this.socketFactory,
      setStatus: (s) => this.setStatus(s),
      handshakeSucceeded: (serverSiteId) => {
        this.serverSite = serverSiteId;
        this.pending.setServer(serverSiteId);
        this.backoff?.reset();
        onHandshake();
      },
      reportError: (e) => this.events.emit('error', e),
      reportRejected: (r) => this.events.emit('rejected', r),
      writesAcknowledged: () => this.pending.invalidate(),
      reportUnhandled: (m) => this.events.emit('message', m),
      nextRequestId: () => `apply-${++this.requestCount}`,
    };
  }

  private setStatus(status: SyncStatus): void {
    const prev = this.current;
    // Progress updates always go out; other states only when they change.
    if (status.state === prev.state && status.state !== 'bootstrapping' && status.state !== 'offline') return;
    this.current = status;
    this.events.emit('status', status);
  }

  private async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(wake, ms);
      function wake(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = wake;
    });
    this.wakeSleep = undefined;
  }
}

function positive(n: number, what: string): number {
  if (!(typeof n === 'number' && n > 0 && Number.isFinite(n)))
    throw new RangeError(`${what} must be a positive number`);
  return n;
}

function nonNegative(n: number, what: string): number {
  if (!(typeof n === 'number' && n >= 0 && Number.isFinite(n))) throw new RangeError(`${what} must be >= 0`);
  return n;
}
