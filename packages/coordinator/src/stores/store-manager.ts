// One replica per databaseId: opened on first acquire, reference-counted, closed when idle or
// pushed out by the LRU limit. The reference checked a count, awaited, then closed, so a store
// could be handed out while it closed; here a closing store is awaited and reopened, and every
// count change happens synchronously. maxOpenStores bounds every database holding files at once
// (opening, open, referenced or not, and closing): past it the least recently used unreferenced
// store is closed to make room, and when every one is in use the acquire is refused.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Replica } from '@syncord/core';
import { pino, type Logger } from 'pino';
import { checkDatabaseId } from './database-id.js';
import { StoragePathError, storageFilePath } from './storage-path.js';
import type { StoreContext, StoreManagerHooks } from './types.js';

/** A reference to an open store; `release()` is idempotent. */
export interface StoreHandle {
  readonly databaseId: string;
  readonly replica: Replica;
  release(): void;
}

export type OpenReplica = (filePath: string, databaseId: string) => Replica | Promise<Replica>;

export interface StoreManagerOptions {
  readonly dataDir: string;
  readonly maxOpenStores: number;
  readonly idleCloseMs: number;
  /** How often idle stores are looked for; 0 disables the timer (call sweep() yourself). */
  readonly cleanupIntervalMs: number;
  readonly maxDatabaseIdLength: number;
  /** The seam to the engine: the server passes openSqliteReplica. */
  readonly openReplica: OpenReplica;
  readonly hooks?: StoreManagerHooks;
  /** Runs before a store closes (e.g. a durability flush); acquires of that id wait for it. */
  readonly beforeClose?: (databaseId: string, replica: Replica) => void | Promise<void>;
  /** Runs once a store is closed and forgotten (e.g. to consider evicting its file). */
  readonly afterClose?: (databaseId: string, filePath: string) => void;
  readonly logger?: Logger;
  /** Told the number of open stores whenever it changes (the sync_open_stores gauge). */
  readonly onOpenCountChange?: (openStores: number) => void;
  readonly now?: () => number;
}

interface Entry {
  readonly databaseId: string;
  readonly filePath: string;
  state: 'opening' | 'open' | 'closing';
  refs: number;
  lastUsed: number;
  /** Increases on every acquire and release: the LRU order (timestamps tie within a millisecond). */
  useOrder: number;
  replica?: Replica;
  readonly ready: Promise<Replica>;
  closed?: Promise<void>;
}

/**
 * One reference to an entry. An object with a method rather than a closure: every idle WebSocket
 * connection holds one for its whole life.
 */
class EntryHandle implements StoreHandle {
  readonly databaseId: string;
  private released = false;

  constructor(
    private readonly entry: Entry,
    readonly replica: Replica,
    private readonly onRelease: (entry: Entry) => void,
  ) {
    this.databaseId = entry.databaseId;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this.entry);
  }
}

/** Every database counted under maxOpenStores is in use: nothing can be closed to make room. */
export class StoreLimitError extends Error {
  override readonly name = 'StoreLimitError';
  /** The config key, for sync_limit_rejections_total. */
  readonly limit = 'maxOpenStores';
  constructor(readonly maxOpenStores: number) {
    super(`The server has all the databases open it takes (maxOpenStores ${maxOpenStores}); try again later`);
  }
}

export class StoreManagerClosedError extends Error {
  override readonly name = 'StoreManagerClosedError';
  constructor() {
    super('Store manager is closed');
  }
}

export class StoreManager {
  private readonly entries = new Map<string, Entry>();
  /** Open files and their database, so two ids a hook maps to one file are refused. */
  private readonly fileOwners = new Map<string, string>();
  private readonly log: Logger;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private closing = false;
  private uses = 0;

  constructor(private readonly options: StoreManagerOptions) {
    this.log = options.logger ?? pino({ level: 'silent' });
    this.now = options.now ?? Date.now;
    if (options.cleanupIntervalMs > 0) {
      this.timer = setInterval(() => void this.sweep(), options.cleanupIntervalMs);
      this.timer.unref();
    }
  }

  /** The id if acceptable (§6.6 plus the length limit), else InvalidDatabaseIdError. */
  validateDatabaseId(databaseId: unknown, ctx?: StoreContext): string {
    return checkDatabaseId(databaseId, { maxLength: this.options.maxDatabaseIdLength, hooks: this.options.hooks }, ctx);
  }

  /** Where the database's file is (whether or not it is open). */
  filePathFor(databaseId: string, ctx?: StoreContext): string {
    return storageFilePath(this.options.dataDir, databaseId, this.options.hooks, ctx);
  }

  /**
   * A referenced, open store. Concurrent acquires of one id share one open; an acquire that finds
   * the store closing waits for the close and opens it again. Opening one more database than
   * maxOpenStores first closes the least recently used unreferenced one (and waits for it), and
   * throws StoreLimitError when every one is in use.
   */
  async acquire(databaseId: string, ctx?: StoreContext): Promise<StoreHandle> {
    const id = this.validateDatabaseId(databaseId, ctx);
    for (;;) {
      if (this.closing) throw new StoreManagerClosedError();
      const existing = this.entries.get(id);
      if (existing?.state === 'closing') {
        await existing.closed;
        continue;
      }
      if (!existing && this.entries.size >= this.options.maxOpenStores) {
        await this.makeRoom();
        continue;
      }
      const entry = existing ?? this.startOpen(id, ctx);
      // Counted before awaiting, so nothing can close the store between open and hand-out.
      entry.refs++;
      this.touch(entry);
      let replica: Replica;
      try {
        replica = await entry.ready;
      } catch (err) {
        entry.refs--;
        throw err;
      }
      if (this.closing || entry.state !== 'open') {
        // Only closeAll closes a referenced store; do not hand out what it is closing.
        entry.refs--;
        throw new StoreManagerClosedError();
      }
      return this.handleFor(entry, replica);
    }
  }

  /**
   * A reference to the store only if it is open right now; never opens, reopens or waits. For
   * background work (a scheduled snapshot), which must not bring back a store that is closing.
   */
  acquireIfOpen(databaseId: string): StoreHandle | undefined {
    const entry = this.entries.get(databaseId);
    if (this.closing || entry?.state !== 'open' || !entry.replica) return undefined;
    entry.refs++;
    return this.handleFor(entry, entry.replica);
  }

  /** Closes every unreferenced store idle for at least idleCloseMs; resolves when they are closed. */
  async sweep(): Promise<number> {
    const cutoff = this.now() - this.options.idleCloseMs;
    const closing: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.state === 'open' && entry.refs === 0 && entry.lastUsed <= cutoff) closing.push(this.close(entry));
    }
    await Promise.all(closing);
    return closing.length;
  }

  /** Shutdown: stops the timer, waits for opens, closes every store (referenced or not). */
  async closeAll(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const entries = [...this.entries.values()];
    await Promise.allSettled(entries.map((e) => e.ready));
    await Promise.all([...this.entries.values()].map((e) => (e.state === 'closing' ? e.closed : this.close(e))));
  }

  get openCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state === 'open') n++;
    return n;
  }

  /** References currently held on the database (0 when closed). */
  refCount(databaseId: string): number {
    return this.entries.get(databaseId)?.refs ?? 0;
  }

  isOpen(databaseId: string): boolean {
    return this.entries.get(databaseId)?.state === 'open';
  }

  /** Runs `visit` on every open store, synchronously (so none closes under it). */
  forEachOpen(visit: (databaseId: string, replica: Replica) => void): void {
    for (const e of this.entries.values()) if (e.state === 'open' && e.replica) visit(e.databaseId, e.replica);
  }

  openDatabaseIds(): string[] {
    return [...this.entries.values()].filter((e) => e.state === 'open').map((e) => e.databaseId);
  }

  private touch(entry: Entry): void {
    entry.lastUsed = this.now();
    entry.useOrder = ++this.uses;
  }

  private startOpen(databaseId: string, ctx?: StoreContext): Entry {
    const filePath = this.filePathFor(databaseId, ctx);
    const owner = this.fileOwners.get(filePath);
    if (owner !== undefined && owner !== databaseId) {
      throw new StoragePathError(
        `Database ${JSON.stringify(databaseId)} maps to the file of open database ${JSON.stringify(owner)}`,
      );
    }
    this.fileOwners.set(filePath, databaseId);
    const entry: Entry = {
      databaseId,
      filePath,
      state: 'opening',
      refs: 0,
      lastUsed: this.now(),
      useOrder: ++this.uses,
      ready: this.open(databaseId, filePath),
    };
    this.entries.set(databaseId, entry);
    entry.ready.then(
      (replica) => {
        entry.replica = replica;
        entry.state = 'open';
        this.log.debug({ databaseId, filePath }, 'store opened');
        this.options.onOpenCountChange?.(this.openCount);
      },
      (err: unknown) => {
        this.forget(entry);
        this.log.error({ databaseId, err }, 'store open failed');
      },
    );
    return entry;
  }

  private async open(databaseId: string, filePath: string): Promise<Replica> {
    mkdirSync(path.dirname(filePath), { recursive: true });
    return await this.options.openReplica(filePath, databaseId);
  }

  private handleFor(entry: Entry, replica: Replica): StoreHandle {
    return new EntryHandle(entry, replica, this.releaseEntry);
  }

  private readonly releaseEntry = (entry: Entry): void => {
    // A handle outliving closeAll must not disturb a later entry of the same id.
    if (this.entries.get(entry.databaseId) !== entry) return;
    entry.refs--;
    this.touch(entry);
  };

  /**
   * At maxOpenStores: closes the least recently used unreferenced store (each acquire waiting for
   * room closes its own, so a burst of new databases closes several at once), else waits for one
   * already closing; throws StoreLimitError when every one is in use.
   */
  private makeRoom(): Promise<void> {
    let victim: Entry | undefined;
    let closing: Entry | undefined;
    for (const e of this.entries.values()) {
      if (e.state === 'closing') closing ??= e;
      else if (e.state === 'open' && e.refs === 0 && (!victim || e.useOrder < victim.useOrder)) victim = e;
    }
    if (victim) return this.close(victim);
    if (closing?.closed) return closing.closed;
    throw new StoreLimitError(this.options.maxOpenStores);
  }

  private close(entry: Entry): Promise<void> {
    if (entry.closed) return entry.closed;
    entry.state = 'closing';
    entry.closed = (async () => {
      const replica = entry.replica;
      try {
        if (replica && this.options.beforeClose) await this.options.beforeClose(entry.databaseId, replica);
      } catch (err) {
        this.log.error({ databaseId: entry.databaseId, err }, 'beforeClose failed; closing anyway');
      }
      try {
        replica?.close();
      } catch (err) {
        this.log.error({ databaseId: entry.databaseId, err }, 'store close failed');
      } finally {
        this.forget(entry);
        this.log.debug({ databaseId: entry.databaseId }, 'store closed');
      }
      try {
        this.options.afterClose?.(entry.databaseId, entry.filePath);
      } catch (err) {
        this.log.error({ databaseId: entry.databaseId, err }, 'afterClose failed');
      }
    })();
    return entry.closed;
  }

  private forget(entry: Entry): void {
    if (this.entries.get(entry.databaseId) === entry) this.entries.delete(entry.databaseId);
    if (this.fileOwners.get(entry.filePath) === entry.databaseId) this.fileOwners.delete(entry.filePath);
    this.options.onOpenCountChange?.(this.openCount);
  }
}
