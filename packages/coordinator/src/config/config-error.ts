/**
 * A configuration value that cannot be used. The message names where the value came from (an
 * environment variable, a command-line flag, or a config file and key) so an operator can fix it
 * without reading code: `SYNC_PORT: must be an integer 0–65535, got "abc"`.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** Where the bad value came from, e.g. `SYNC_PORT`, `--port`, `/etc/sync.json: port`. */
    readonly source: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`${source}: ${reason}`);
  }
}
