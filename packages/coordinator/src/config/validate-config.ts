import { ConfigError } from './config-error.js';
import type { ConfigKey } from './config-keys.js';
import { isPlainObject, mergeLayers, setAt } from './config-keys.js';
import type { ConfigOption } from './options.js';
import { CONFIG_OPTIONS } from './options.js';
import { suggestKey } from './suggest-key.js';
import type { CoordinatorConfig, PartialConfig } from './types.js';
import { DEFAULT_CONFIG } from './types.js';

const OPTIONS_BY_KEY: ReadonlyMap<string, ConfigOption> = new Map(CONFIG_OPTIONS.map((o) => [o.key, o]));
const SECTIONS: ReadonlySet<string> = new Set(
  Object.entries(DEFAULT_CONFIG)
    .filter(([, value]) => isPlainObject(value))
    .map(([name]) => name),
);
/** Keys a reference (Quereus) config file may hold that Syncord has no use for: accepted, ignored. */
const IGNORED_KEYS: ReadonlySet<string> = new Set(['logging.namespaces']);

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * One option's value, checked and normalised. `fromText` marks text from the environment or a
 * flag, which is converted first; a file's or a program's value must already have the right type.
 */
export function readOption(option: ConfigOption, value: unknown, source: string, fromText: boolean): unknown {
  const candidate = fromText && typeof value === 'string' ? option.kind.fromText(value) : value;
  const checked = option.kind.check(candidate);
  if (checked === undefined) throw new ConfigError(source, `must be ${option.kind.expect}, got ${show(value)}`);
  return checked;
}

function unknownKey(key: string): string {
  const near = suggestKey(key);
  return near === undefined ? 'unknown key' : `unknown key (did you mean "${near}"?)`;
}

/**
 * Checks one typed layer (a config file's JSON, programmatic overrides): every key known, every
 * value valid. Errors name `where` and the key. Undefined values are skipped, as if absent.
 * Every problem is reported at once, so an operator fixes a file in one round.
 */
export function checkLayer(input: unknown, where: string): PartialConfig {
  const label = (key: string): string => (where === '' ? key : `${where}: ${key}`);
  const whole = where === '' ? 'config' : where;
  if (!isPlainObject(input)) throw new ConfigError(whole, `must be an object, got ${show(input)}`);
  const layer: PartialConfig = {};
  const problems: ConfigError[] = [];
  const take = (key: string, value: unknown): void => {
    if (value === undefined || IGNORED_KEYS.has(key)) return;
    const option = OPTIONS_BY_KEY.get(key);
    if (option === undefined) {
      problems.push(new ConfigError(label(key), unknownKey(key)));
      return;
    }
    try {
      setAt(layer, option.key, readOption(option, value, label(key), false));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(error);
    }
  };
  for (const [name, value] of Object.entries(input)) {
    if (!SECTIONS.has(name)) take(name, value);
    else if (isPlainObject(value)) for (const [leaf, item] of Object.entries(value)) take(`${name}.${leaf}`, item);
    else if (value !== undefined) problems.push(new ConfigError(label(name), `must be an object, got ${show(value)}`));
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) {
    const lines = problems.map((p) => `\n  ${p.message}`).join('');
    throw new ConfigError(whole, `${problems.length} problems:${lines}`);
  }
  return layer;
}

/**
 * Settings that are valid alone but not together. Tokens with no mode set anywhere mean
 * token-whitelist (PROTOCOL.md §9); an explicit `none` with tokens is refused rather than
 * silently serving without the auth the operator evidently wanted.
 */
function settleAuth(merged: PartialConfig): PartialConfig {
  const tokens = merged.auth?.tokens ?? [];
  const mode = merged.auth?.mode ?? (tokens.length > 0 ? 'token-whitelist' : 'none');
  if (mode === 'token-whitelist' && tokens.length === 0) {
    throw new ConfigError(
      'auth.tokens' satisfies ConfigKey,
      'auth.mode is "token-whitelist" but no tokens are set (SYNC_AUTH_TOKENS, --auth-tokens or the config file)',
    );
  }
  if (mode === 'none' && tokens.length > 0) {
    throw new ConfigError(
      'auth.mode' satisfies ConfigKey,
      'is "none" but auth.tokens are set; use "token-whitelist" to require them, or remove them',
    );
  }
  return { ...merged, auth: { ...merged.auth, mode } };
}

/** A stream pausing above a mark the slow-reader bound already exceeds would close every reader. */
function checkSendBuffer(merged: PartialConfig): void {
  const highWater = merged.limits?.sendHighWaterBytes ?? DEFAULT_CONFIG.limits.sendHighWaterBytes;
  const max = merged.limits?.maxBufferedBytes ?? DEFAULT_CONFIG.limits.maxBufferedBytes;
  if (highWater > max) {
    throw new ConfigError(
      'limits.sendHighWaterBytes' satisfies ConfigKey,
      `must not exceed limits.maxBufferedBytes (${max}), got ${highWater}`,
    );
  }
}

/** The SDK would silently fall back to its default credential chain with only half a key pair. */
function checkS3Credentials(merged: PartialConfig): void {
  const id = merged.s3?.accessKeyId ?? '';
  const secret = merged.s3?.secretAccessKey ?? '';
  if ((id === '') !== (secret === '')) {
    throw new ConfigError(
      (id === '' ? 's3.accessKeyId' : 's3.secretAccessKey') satisfies ConfigKey,
      'must be set together with ' + (id === '' ? 's3.secretAccessKey' : 's3.accessKeyId'),
    );
  }
}

/**
 * A complete, valid config from a partial one: unknown keys and bad values are errors naming the
 * key, missing keys take their defaults (merged per section), cross-key rules are applied.
 * The result shares nothing with its input or the defaults.
 */
export function validateConfig(partial: unknown): CoordinatorConfig {
  const checked = settleAuth(checkLayer(partial, ''));
  checkSendBuffer(checked);
  checkS3Credentials(checked);
  return structuredClone(mergeLayers([DEFAULT_CONFIG, checked])) as CoordinatorConfig;
}
