// A value read now and pushed by a subscription afterwards, as React's useSyncExternalStore wants
// it: a cached snapshot (the same object until the source says it changed) and a subscribe that
// returns its own unsubscribe. One store per source identity, so a re-render reuses it.
import { useMemo, useSyncExternalStore, type DependencyList } from 'react';

export interface LiveSource<T> {
  /** The current value. */
  read(): T;
  /**
   * Calls `update` with new values; returns the stop function. It must deliver the current value
   * at once too: the source may have changed between the render's read and this subscription.
   */
  watch(update: (value: T) => void): () => void;
  /** Values that need no re-render (the cached one is kept). */
  same(a: T, b: T): boolean;
}

/** `source` is created again only when `deps` change; its value is cached between updates. */
export function useLiveValue<T>(source: () => LiveSource<T>, deps: DependencyList): T {
  const store = useMemo(() => {
    const s = source();
    let value = s.read();
    return {
      get: () => value,
      subscribe: (notify: () => void) =>
        s.watch((next) => {
          if (s.same(value, next)) return;
          value = next;
          notify();
        }),
    };
    // The caller's deps say when the source is a different one.
  }, deps);
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/** Text that is equal for equal query inputs (bigints and blobs included), for hook deps. */
export function stableKey(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return { bigint: v.toString() };
      if (v instanceof Uint8Array) return { bytes: Array.from(v) };
      return v;
    }) ?? 'undefined'
  );
}
