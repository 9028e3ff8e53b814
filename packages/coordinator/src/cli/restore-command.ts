// `syncord restore --database ID [--at TIME] --out DIR`: point-in-time restore. Rebuilds one
// database as it was at TIME (default: now) from the bucket — the newest snapshot or image at or
// before TIME plus every batch up to TIME — into DIR/<file name the coordinator would use>, so
// the result can be inspected with the engine or served by pointing a coordinator at DIR.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { encodeSiteId } from '@syncord/core';
import type { CliOptions, ConfigKey, Environment } from '../config/index.js';
import {
  CONFIG_FILE_OPTION,
  CONFIG_OPTIONS,
  ConfigError,
  flagsOf,
  formatDefault,
  loadConfig,
} from '../config/index.js';
import { ArchiveLayout, defaultS3StoragePath, ObjectStore, restoreDatabase } from '../durability/index.js';
import { openServerReplica } from '../service/database-stores.js';
import { checkDatabaseId, InvalidDatabaseIdError, storageFilePath } from '../stores/index.js';
import type { CliOutput } from './program.js';
import { USAGE_ERROR } from './program.js';

/** Options of the restore command that are not config keys. */
const OWN = ['database', 'at', 'out', 'storagePath'] as const;

/** The config keys a restore reads (bucket access and the file it writes); the only ones it offers. */
export const RESTORE_KEYS: readonly ConfigKey[] = [
  's3.bucket',
  's3.region',
  's3.endpoint',
  's3.accessKeyId',
  's3.secretAccessKey',
  's3.forcePathStyle',
  's3.keyPrefix',
  's3.checksums',
  'limits.maxDatabaseIdLength',
  'sync.allowResurrection',
];

/** TIME as ISO 8601 (`2024-06-10T06:13:20Z`) or milliseconds since the epoch. */
export function parseRestoreTime(text: string): number {
  const trimmed = text.trim();
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  if (!Number.isFinite(ms))
    throw new ConfigError('--at', `must be an ISO 8601 time or epoch milliseconds, got ${JSON.stringify(text)}`);
  return ms;
}

function buildRestoreProgram(output: CliOutput): Command {
  const program = new Command('syncord restore')
    .description(
      'Point-in-time restore: rebuild one database as of --at from the S3 archive (newest snapshot at or before it, plus the batches up to it) into --out.',
    )
    .helpOption('-h, --help', 'show this help and exit')
    .requiredOption('--database <id>', 'the databaseId to restore')
    .option('--at <time>', 'ISO 8601 time or epoch ms (default: now, i.e. the latest state)')
    .requiredOption('--out <dir>', 'directory to write the database file into (the file must not exist yet)')
    .option('--storage-path <path>', "the database's path in the bucket when a resolveStoragePath hook chose it")
    .addOption(new Option(flagsOf(CONFIG_FILE_OPTION), CONFIG_FILE_OPTION.description))
    .exitOverride()
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr });
  for (const option of CONFIG_OPTIONS) {
    if (!RESTORE_KEYS.includes(option.key)) continue;
    program.addOption(
      new Option(flagsOf(option), `${option.description} [${option.env}] (default: ${formatDefault(option)})`),
    );
  }
  return program;
}

export interface RestoreCommandContext {
  readonly output: CliOutput;
  readonly cwd: string;
}

/** Exit status: 0 restored, 1 the restore failed (or found nothing), 2 usage or configuration error. */
export async function runRestoreCommand(
  argv: readonly string[],
  env: Environment,
  context: RestoreCommandContext,
): Promise<number> {
  const { output } = context;
  const program = buildRestoreProgram(output);
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return error.code === 'commander.helpDisplayed' ? 0 : USAGE_ERROR;
  }
  const parsed = program.opts<CliOptions & { database: string; at?: string; out: string; storagePath?: string }>();
  let store: ObjectStore | undefined;
  try {
    const argvConfig: CliOptions = Object.fromEntries(
      Object.entries(parsed).filter(([k]) => !(OWN as readonly string[]).includes(k)),
    );
    const config = loadConfig({ argv: argvConfig, env, cwd: context.cwd });
    if (config.s3.bucket === '')
      throw new ConfigError('S3_BUCKET', 'is required for restore (or --s3-bucket, or s3.bucket in the config file)');
    const databaseId = checkDatabaseId(parsed.database, { maxLength: config.limits.maxDatabaseIdLength });
    const at = parsed.at === undefined ? Date.now() : parseRestoreTime(parsed.at);
    const outDir = path.resolve(context.cwd, parsed.out);
    const target = storageFilePath(outDir, databaseId);
    if (existsSync(target)) throw new ConfigError('--out', `${target} already exists; choose an empty directory`);
    mkdirSync(outDir, { recursive: true });
    store = ObjectStore.fromConfig(config.s3);
    const layout = new ArchiveLayout(
      databaseId,
      parsed.storagePath ?? defaultS3StoragePath(databaseId),
      config.s3.keyPrefix,
    );
    const report = await restoreDatabase({
      store,
      layout,
      targetFile: target,
      at,
      openFile: (file, siteId) => openServerReplica(config, file, siteId),
    });
    if (!report) {
      output.stderr(
        `Nothing archived for database ${JSON.stringify(databaseId)} at or before ${new Date(at).toISOString()} under ${store.url(layout.root)}\n`,
      );
      return 1;
    }
    output.stdout(
      `${JSON.stringify({
        databaseId,
        at: new Date(at).toISOString(),
        file: report.file,
        base: report.base?.key ?? null,
        batches: report.batches,
        serverSiteId: encodeSiteId(report.siteId),
      })}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof InvalidDatabaseIdError) {
      output.stderr(`${error instanceof ConfigError ? error.name : 'Usage'}: ${error.message}\n`);
      return USAGE_ERROR;
    }
    output.stderr(`${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`);
    return 1;
  } finally {
    store?.close();
  }
}
