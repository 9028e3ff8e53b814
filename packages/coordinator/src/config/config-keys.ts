import type { CoordinatorConfig, PartialConfig } from './types.js';

// Options are named by dotted paths into CoordinatorConfig ("port", "sync.batchSize"); the config
// has one level of sections, so a path is a top-level key or a section and one key in it.

type SectionName = {
  [K in keyof CoordinatorConfig]: CoordinatorConfig[K] extends object ? K : never;
}[keyof CoordinatorConfig];

/** Every option's path, checked by the compiler against CoordinatorConfig. */
export type ConfigKey =
  | Exclude<keyof CoordinatorConfig, SectionName>
  | { [S in SectionName]: `${S}.${keyof CoordinatorConfig[S] & string}` }[SectionName];

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function splitKey(key: string): [string] | [string, string] {
  const dot = key.indexOf('.');
  return dot < 0 ? [key] : [key.slice(0, dot), key.slice(dot + 1)];
}

/** The value at `key`, or undefined when a section or the key is absent. */
export function getAt(config: CoordinatorConfig | PartialConfig, key: ConfigKey): unknown {
  const [head, leaf] = splitKey(key);
  const top: unknown = (config as Record<string, unknown>)[head];
  if (leaf === undefined) return top;
  return isPlainObject(top) ? top[leaf] : undefined;
}

/** Sets `key` in a partial config, creating its section. */
export function setAt(config: PartialConfig, key: ConfigKey, value: unknown): void {
  const target = config as Record<string, unknown>;
  const [head, leaf] = splitKey(key);
  if (leaf === undefined) {
    target[head] = value;
    return;
  }
  const section = target[head];
  if (isPlainObject(section)) section[leaf] = value;
  else target[head] = { [leaf]: value };
}

/**
 * Layers merged in order, later winning, one section at a time: a file that sets `sync.batchSize`
 * keeps the default `sync.retentionHorizonMs`. Lists are values, replaced whole.
 */
export function mergeLayers(layers: readonly PartialConfig[]): PartialConfig {
  const merged: Record<string, unknown> = {};
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      if (!isPlainObject(value)) {
        merged[name] = value;
        continue;
      }
      const current = merged[name];
      const section: Record<string, unknown> = isPlainObject(current) ? { ...current } : {};
      for (const [key, item] of Object.entries(value)) if (item !== undefined) section[key] = item;
      merged[name] = section;
    }
  }
  return merged as PartialConfig;
}
