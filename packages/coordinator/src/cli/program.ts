import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { CliOptions, ConfigOption } from '../config/index.js';
import { CONFIG_FILE_OPTION, CONFIG_OPTIONS, flagsOf, formatDefault } from '../config/index.js';

export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Command-line parsing either yields options to run with, or is done (help, version, usage error). */
export type ParsedArgs = { kind: 'run'; options: CliOptions } | { kind: 'exit'; code: number };

/** Exit status for a usage or configuration error, as most Unix tools use. */
export const USAGE_ERROR = 2;

// src/cli and dist/cli are both two levels below the package root.
const packageVersion = (): string =>
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const describe = (o: ConfigOption): string => `${o.description} [${o.env}] (default: ${formatDefault(o)})`;

/**
 * The `syncord` command. Every option comes from the config option table; none has a commander
 * default, because a default here would override the environment and the config file.
 * Help is `-h, --help` as people expect; the host has only its long flag, unlike PROTOCOL.md §9.
 */
export function buildProgram(output: CliOutput): Command {
  const program = new Command('syncord')
    .description('Syncord sync coordinator: serves Quereus sync protocol v1 over WebSocket and HTTP.')
    .helpOption('-h, --help', 'show this help and exit')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .addOption(
      new Option(
        flagsOf(CONFIG_FILE_OPTION),
        `${CONFIG_FILE_OPTION.description} (default: ${CONFIG_FILE_OPTION.defaultPath})`,
      ),
    )
    .exitOverride()
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr });
  for (const option of CONFIG_OPTIONS) program.addOption(new Option(flagsOf(option), describe(option)));
  program.addHelpText(
    'after',
    '\nPrecedence, lowest first: defaults < config file < SYNC_* environment < command line.\n' +
      'Booleans take true or false; a bare boolean flag means true. An empty variable counts as unset.\n' +
      '\nPoint-in-time restore from S3: syncord restore --database ID [--at TIME] --out DIR (see syncord restore --help).\n',
  );
  return program;
}

export function parseCliArgs(argv: readonly string[], output: CliOutput): ParsedArgs {
  const program = buildProgram(output);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Commander has already written help, the version or the usage error.
    const done = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
    return { kind: 'exit', code: done ? 0 : USAGE_ERROR };
  }
  return { kind: 'run', options: program.opts<CliOptions>() };
}
