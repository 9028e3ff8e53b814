import { resolve } from 'node:path';
import { checkLayer, validateConfig } from './validate-config.js';
import { mergeLayers } from './config-keys.js';
import { CONFIG_FILE_OPTION } from './options.js';
import { readConfigFile } from './read-config-file.js';
import type { CliOptions, Environment } from './text-sources.js';
import { configFromCli, configFromEnv } from './text-sources.js';
import type { CoordinatorConfig, PartialConfig } from './types.js';

export interface LoadConfigInput {
  /** Parsed command-line options; `config` names the config file. */
  argv?: CliOptions;
  /** Defaults to process.env. */
  env?: Environment;
  /** Where relative config paths are resolved; defaults to process.cwd(). */
  cwd?: string;
  /** What the embedding program sets; wins over everything. */
  overrides?: PartialConfig;
}

/**
 * The coordinator's config from every source, lowest to highest: defaults < config file <
 * environment < command line < overrides, merged per section and validated. Throws ConfigError
 * naming the source and key of the first bad value.
 */
export function loadConfig(input: LoadConfigInput = {}): CoordinatorConfig {
  const cwd = input.cwd ?? process.cwd();
  const named = input.argv?.config;
  const file = readConfigFile(resolve(cwd, named ?? CONFIG_FILE_OPTION.defaultPath), named !== undefined);
  return validateConfig(
    mergeLayers([
      file ?? {},
      configFromEnv(input.env ?? process.env),
      configFromCli(input.argv ?? {}),
      checkLayer(input.overrides ?? {}, 'overrides'),
    ]),
  );
}
