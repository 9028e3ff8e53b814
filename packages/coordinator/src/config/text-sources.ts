import { ConfigError } from './config-error.js';
import { setAt } from './config-keys.js';
import { attributeOf, CONFIG_FILE_OPTION, CONFIG_OPTIONS } from './options.js';
import type { PartialConfig } from './types.js';
import { readOption } from './validate-config.js';

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Parsed command-line options as commander hands them over: the camelCase name of each long flag
 * (`--base-path` → `basePath`) to its text, or `true` for a bare boolean flag.
 */
export interface CliOptions {
  config?: string;
  [attribute: string]: string | boolean | undefined;
}

/**
 * The `SYNC_*` variables that are set. An empty variable counts as unset, as container tools
 * produce them for "not configured"; errors name the variable.
 */
export function configFromEnv(env: Environment): PartialConfig {
  const layer: PartialConfig = {};
  for (const option of CONFIG_OPTIONS) {
    const raw = env[option.env];
    if (raw === undefined || raw.trim() === '') continue;
    setAt(layer, option.key, readOption(option, raw, option.env, true));
  }
  return layer;
}

const ATTRIBUTES = new Map(CONFIG_OPTIONS.map((o) => [attributeOf(o.flag), o]));

/** The options given on the command line; errors name the flag. */
export function configFromCli(options: CliOptions): PartialConfig {
  const layer: PartialConfig = {};
  for (const [attribute, value] of Object.entries(options)) {
    if (value === undefined || attribute === attributeOf(CONFIG_FILE_OPTION.flag)) continue;
    const option = ATTRIBUTES.get(attribute);
    if (option === undefined) throw new ConfigError('command line', `unknown option "${attribute}"`);
    setAt(layer, option.key, readOption(option, value, `--${option.flag}`, typeof value === 'string'));
  }
  return layer;
}
