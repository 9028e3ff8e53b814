// Types shared by the store manager and the service's hook surface (PROTOCOL.md §6.7).

/** What a store hook may know about the caller; filled from the authenticated identity. */
export interface StoreContext {
  readonly token?: string;
  readonly userId?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Passed to the coordinator as `storeHooks`. */
export interface StoreManagerHooks {
  /**
   * A storage path for the database, relative to `dataDir` (an absolute result must still lie
   * under `dataDir`). The SQLite file is `<resolved path>.sqlite`. Must be injective: two ids that
   * map to one path share one file.
   */
  resolveStoragePath?(databaseId: string, ctx?: StoreContext): string;
  /** Replaces the default `^[a-zA-Z0-9_:.-]+$` rule; the length limit still applies. */
  isValidDatabaseId?(databaseId: string, ctx?: StoreContext): boolean;
}
