// The state one replica's engine modules share: the store, the identity, the clock and the
// arrival-sequence counter, plus `write`, the one way to change the store.
import { HybridClock, type NowFn } from '../clock/hybrid-clock.js';
import { decodeSiteId, encodeSiteId, newSiteId, type SiteId } from '../clock/site-id.js';
import type { ReplicaOptions } from './replica-api.js';
import type { ReplicaStore } from './store.js';
import type { CoverageNote } from './watermarks.js';

/** Storage layout version kept in meta; a store written by a newer layout is refused. */
export const STORE_FORMAT_VERSION = 1;

export const META = {
  format: 'formatVersion',
  siteId: 'siteId',
  clock: 'clock',
  lastSeq: 'lastSeq',
  watermarkUse: 'watermarkUseSeq',
  watermarkFloor: 'watermarkFloor',
  maxPrunedSeq: 'maxPrunedSeq',
  maxPrunedHlc: 'maxPrunedHlc',
  checkpoint: 'snapshotCheckpoint',
  localPrefix: 'local:',
} as const;

/** The meta rows of a brand-new store (the engine writes them, or a new file is made with them). */
export function initialMeta(siteId: SiteId): [key: string, value: string][] {
  return [
    [META.format, String(STORE_FORMAT_VERSION)],
    [META.siteId, encodeSiteId(siteId)],
    [META.clock, '0:0'],
    [META.lastSeq, '0'],
  ];
}

export interface EngineSettings {
  readonly allowResurrection: boolean;
  readonly watermarksPerSite: number;
  readonly maxWatermarkSites: number;
  readonly guardCoverage: boolean;
  readonly onCoverage: ((note: CoverageNote) => void) | undefined;
}

function positiveInteger(v: number | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${v}`);
  return v;
}

export class Engine {
  readonly siteId: SiteId;
  readonly now: NowFn;
  readonly settings: EngineSettings;
  clock: HybridClock;
  /** Highest arrival sequence handed out; persisted with every write that advances it. */
  lastSeq: number;
  private writing = false;
  private closed = false;

  constructor(
    readonly store: ReplicaStore,
    options: ReplicaOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.settings = {
      allowResurrection: options.allowResurrection ?? false,
      watermarksPerSite: positiveInteger(options.watermarksPerSite, 8, 'watermarksPerSite'),
      maxWatermarkSites: positiveInteger(options.maxWatermarkSites, 10_000, 'maxWatermarkSites'),
      guardCoverage: options.guardCoverage ?? false,
      onCoverage: options.onCoverage,
    };
    const format = store.getMeta(META.format);
    if (format === undefined) {
      const siteId = options.siteId ?? newSiteId();
      store.transaction(() => {
        for (const [key, value] of initialMeta(siteId)) store.setMeta(key, value);
      });
    } else if (!/^[0-9]+$/.test(format) || Number(format) > STORE_FORMAT_VERSION) {
      throw new Error(
        `Replica store format ${format} is not supported (this build reads format ${STORE_FORMAT_VERSION}); ` +
          'open it with a newer @syncord/core or re-bootstrap the replica',
      );
    }
    this.siteId = decodeSiteId(store.getMeta(META.siteId), 'stored siteId');
    const [wall, counter] = (store.getMeta(META.clock) ?? '0:0').split(':');
    this.clock = new HybridClock(
      this.siteId,
      { wallTime: BigInt(wall ?? '0'), counter: Number(counter ?? 0) },
      this.now,
    );
    this.lastSeq = Number(store.getMeta(META.lastSeq) ?? '0');
  }

  assertOpen(): void {
    if (this.closed) throw new Error('Replica is closed');
  }

  nextSeq(): number {
    return ++this.lastSeq;
  }

  /**
   * Runs `fn` in one store transaction and persists the clock and the sequence counter with it.
   * When `fn` throws, the store, the clock and the counter are all as before. `durable: false`
   * marks bookkeeping whose loss in a crash is harmless (the store may skip the sync).
   */
  write<T>(fn: () => T, options?: { durable?: boolean }): T {
    this.assertOpen();
    if (this.writing) return fn();
    const seq0 = this.lastSeq;
    const clock0 = this.clock.state();
    this.writing = true;
    try {
      return this.store.transaction(() => {
        const result = fn();
        if (this.lastSeq !== seq0) this.store.setMeta(META.lastSeq, String(this.lastSeq));
        const c = this.clock.state();
        if (c.wallTime !== clock0.wallTime || c.counter !== clock0.counter) {
          this.store.setMeta(META.clock, `${c.wallTime}:${c.counter}`);
        }
        return result;
      }, options);
    } catch (err) {
      this.lastSeq = seq0;
      this.clock = new HybridClock(this.siteId, clock0, this.now);
      throw err;
    } finally {
      this.writing = false;
    }
  }

  /**
   * Inside `write` only: runs `fn` as a nested atomic step. When it throws, its writes, the clock
   * and the counter are as before it, and the enclosing write goes on; the error is rethrown.
   */
  savepoint<T>(fn: () => T): T {
    if (!this.writing) throw new Error('Engine.savepoint runs inside write');
    const seq0 = this.lastSeq;
    const clock0 = this.clock.state();
    try {
      return this.store.savepoint(fn);
    } catch (err) {
      this.lastSeq = seq0;
      this.clock = new HybridClock(this.siteId, clock0, this.now);
      throw err;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
  }
}
