import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConfigKey } from './config-keys.js';
import { getAt } from './config-keys.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';
import { attributeOf, CONFIG_OPTIONS, MAX_TIMER_MS } from './options.js';
import type { CliOptions } from './text-sources.js';
import { DEFAULT_CONFIG } from './types.js';
import { validateConfig } from './validate-config.js';

const root = mkdtempSync(join(tmpdir(), 'syncord-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
/** A fresh working directory, optionally holding ./sync-coordinator.json. */
function workDir(file?: unknown): string {
  const dir = join(root, `w${dirs++}`);
  mkdirSync(dir);
  if (file !== undefined) writeFileSync(join(dir, 'sync-coordinator.json'), JSON.stringify(file));
  return dir;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Text for every option as env or flag would give it, and the value it must become. */
const TEXT_CASES: Record<ConfigKey, [string, unknown]> = {
  host: ['127.0.0.1', '127.0.0.1'],
  port: ['8080', 8080],
  basePath: ['/api/sync/', '/api/sync'],
  dataDir: ['/var/lib/syncord', '/var/lib/syncord'],
  'cors.origin': ['https://a.example, https://b.example', ['https://a.example', 'https://b.example']],
  'cors.credentials': ['false', false],
  'auth.mode': ['custom', 'custom'],
  'auth.tokens': [' t1, t2,,t3 ', ['t1', 't2', 't3']],
  'sync.retentionHorizonMs': ['86400000', 86_400_000],
  'sync.batchSize': ['250', 250],
  'sync.allowResurrection': ['TRUE', true],
  'sync.maintenanceIntervalMs': ['60000', 60_000],
  'sync.originCheck': ['strict', 'strict'],
  'sync.pingIntervalMs': ['5000', 5000],
  'sync.backlogRequestMinChanges': ['0', 0],
  'stores.maxOpenStores': ['7', 7],
  'stores.idleCloseMs': ['1000', 1000],
  'stores.cleanupIntervalMs': ['500', 500],
  'limits.maxDatabaseIdLength': ['64', 64],
  'limits.maxMessageBytes': ['1048576', 1_048_576],
  'limits.maxBodyBytes': ['2048', 2048],
  'limits.maxChangeSetsPerApply': ['10', 10],
  'limits.maxChangesPerApply': ['20', 20],
  'limits.maxConnections': ['500', 500],
  'limits.maxConnectionsPerDatabase': ['50', 50],
  'limits.maxConcurrentSnapshots': ['4', 4],
  'limits.handshakeTimeoutMs': ['2000', 2000],
  'limits.messageRatePerSecond': ['10', 10],
  'limits.messageBurst': ['30', 30],
  'limits.sendHighWaterBytes': ['65536', 65_536],
  'limits.maxBufferedBytes': ['4194304', 4_194_304],
  'logging.level': ['debug', 'debug'],
  'logging.format': ['pretty', 'pretty'],
  'metrics.perDatabaseLabels': ['yes', true],
  'metrics.token': [' scrape-me ', 'scrape-me'],
  's3.bucket': ['archive', 'archive'],
  's3.region': ['eu-west-3', 'eu-west-3'],
  's3.endpoint': ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
  's3.accessKeyId': ['AKIA1', 'AKIA1'],
  's3.secretAccessKey': ['s3cret', 's3cret'],
  's3.forcePathStyle': ['true', true],
  's3.keyPrefix': ['tenants/', 'tenants/'],
  's3.checksums': ['when-supported', 'when-supported'],
  's3.snapshotIntervalMs': ['60000', 60_000],
  's3.snapshotChanges': ['50', 50],
  's3.keepSnapshots': ['2', 2],
  's3.retryMaxDelayMs': ['5000', 5000],
  's3.flushTimeoutMs': ['2000', 2000],
  'diskEviction.enabled': ['false', false],
  'diskEviction.idleMs': ['60000', 60_000],
  'cluster.natsUrl': ['nats://10.0.0.1:4222,nats://10.0.0.2:4222', 'nats://10.0.0.1:4222,nats://10.0.0.2:4222'],
  'cluster.replicas': ['3', 3],
  'cluster.subjectPrefix': ['tenants_eu', 'tenants_eu'],
  'cluster.nodeName': ['node-1', 'node-1'],
  'cluster.ackTimeoutMs': ['2500', 2500],
  'cluster.archiveTurnMs': ['4000', 4000],
  'admin.token': ['op-secret', 'op-secret'],
  'admin.maxPageSize': ['100', 100],
};

/** Options valid only together with another one (the S3 key pair). */
const PARTNER_ENV: Partial<Record<ConfigKey, Record<string, string>>> = {
  's3.accessKeyId': { S3_SECRET_ACCESS_KEY: 'x' },
  's3.secretAccessKey': { S3_ACCESS_KEY_ID: 'x' },
};

describe('loadConfig', () => {
  it('gives the defaults when nothing is set, as a copy', () => {
    const config = loadConfig({ env: {}, cwd: workDir() });
    expect(config).toEqual(DEFAULT_CONFIG);
    config.auth.tokens.push('x');
    config.sync.batchSize = 1;
    expect(DEFAULT_CONFIG.auth.tokens).toEqual([]);
    expect(DEFAULT_CONFIG.sync.batchSize).toBe(1000);
  });

  it('ranks defaults < file < environment < command line < overrides, merging per section', () => {
    const cwd = workDir({ port: 1001, host: 'file-host', sync: { batchSize: 500 }, limits: { maxBodyBytes: 10 } });
    const env = { SYNC_PORT: '1002', SYNC_HOST: 'env-host', SYNC_RETENTION_HORIZON_MS: '5000' };
    const argv: CliOptions = { port: '1003', maxBodyBytes: '20' };
    const overrides = { port: 1004 };

    expect(loadConfig({ env: {}, cwd }).port).toBe(1001);
    expect(loadConfig({ env, cwd }).port).toBe(1002);
    expect(loadConfig({ env, cwd, argv }).port).toBe(1003);
    const all = loadConfig({ env, cwd, argv, overrides });
    expect(all.port).toBe(1004);
    expect(all.host).toBe('env-host');
    // One section fed by three sources, the rest of it from the defaults.
    expect(all.sync).toEqual({ ...DEFAULT_CONFIG.sync, batchSize: 500, retentionHorizonMs: 5000 });
    expect(all.limits).toEqual({ ...DEFAULT_CONFIG.limits, maxBodyBytes: 20 });
  });

  it.each(CONFIG_OPTIONS.map((o) => [o.env, o] as const))('parses %s', (_, option) => {
    const [text, expected] = TEXT_CASES[option.key];
    const config = loadConfig({ env: { ...PARTNER_ENV[option.key], [option.env]: text }, cwd: workDir() });
    expect(getAt(config, option.key)).toEqual(expected);
  });

  it('refuses half an S3 key pair and an endpoint that is not a URL', () => {
    expect(configError(() => loadConfig({ env: { S3_ACCESS_KEY_ID: 'a' }, cwd: workDir() })).message).toBe(
      's3.secretAccessKey: must be set together with s3.accessKeyId',
    );
    expect(configError(() => loadConfig({ env: { S3_SECRET_ACCESS_KEY: 'a' }, cwd: workDir() })).message).toBe(
      's3.accessKeyId: must be set together with s3.secretAccessKey',
    );
    expect(configError(() => loadConfig({ env: { S3_ENDPOINT: 'minio:9000' }, cwd: workDir() })).message).toMatch(
      /^S3_ENDPOINT: must be an http:\/\/ or https:\/\/ URL/,
    );
    const file = workDir({ s3: { bucket: 'b', forcePathStyle: true }, diskEviction: { idleMs: 1000 } });
    const config = loadConfig({ env: {}, cwd: file });
    expect([config.s3.bucket, config.s3.forcePathStyle, config.diskEviction.idleMs]).toEqual(['b', true, 1000]);
  });

  it('parses every flag, by its commander attribute name', () => {
    const options = CONFIG_OPTIONS;
    const argv: CliOptions = Object.fromEntries(options.map((o) => [attributeOf(o.flag), TEXT_CASES[o.key][0]]));
    const config = loadConfig({ env: {}, cwd: workDir(), argv });
    for (const option of options) expect(getAt(config, option.key)).toEqual(TEXT_CASES[option.key][1]);
  });

  it('takes a cluster with S3 archiving', () => {
    const env = { SYNC_NATS_URL: 'nats://127.0.0.1:4222', S3_BUCKET: 'archive' };
    const config = loadConfig({ env, cwd: workDir() });
    expect([config.cluster.natsUrl, config.s3.bucket]).toEqual(['nats://127.0.0.1:4222', 'archive']);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ env: { SYNC_PORT: '', SYNC_HOST: '  ' }, cwd: workDir() }).port).toBe(3000);
  });

  it('reads CORS origins as true, false, a list, or "*" for any', () => {
    const origin = (value: string): unknown =>
      loadConfig({ env: { SYNC_CORS_ORIGIN: value }, cwd: workDir() }).cors.origin;
    expect(origin('true')).toBe(true);
    expect(origin('FALSE')).toBe(false);
    expect(origin('*')).toBe(true);
    expect(origin('https://only.example')).toEqual(['https://only.example']);
  });

  it('names the source and key of a bad value', () => {
    const cwd = workDir();
    const cases: [() => unknown, string][] = [
      [() => loadConfig({ env: { SYNC_PORT: 'abc' }, cwd }), 'SYNC_PORT: must be an integer 0–65535, got "abc"'],
      [() => loadConfig({ env: { SYNC_PORT: '65536' }, cwd }), 'SYNC_PORT: must be an integer 0–65535, got "65536"'],
      [() => loadConfig({ env: { SYNC_BATCH_SIZE: '0' }, cwd }), 'SYNC_BATCH_SIZE: must be an integer ≥ 1, got "0"'],
      [
        () => loadConfig({ env: { SYNC_BATCH_SIZE: '1e3' }, cwd }),
        'SYNC_BATCH_SIZE: must be an integer ≥ 1, got "1e3"',
      ],
      [
        () => loadConfig({ env: { SYNC_BATCH_SIZE: '2.5' }, cwd }),
        'SYNC_BATCH_SIZE: must be an integer ≥ 1, got "2.5"',
      ],
      [
        () => loadConfig({ env: { SYNC_MAINTENANCE_INTERVAL_MS: String(MAX_TIMER_MS + 1) }, cwd }),
        `SYNC_MAINTENANCE_INTERVAL_MS: must be an integer 1–${MAX_TIMER_MS}, got "${MAX_TIMER_MS + 1}"`,
      ],
      [
        () => loadConfig({ env: { SYNC_CORS_CREDENTIALS: 'maybe' }, cwd }),
        'SYNC_CORS_CREDENTIALS: must be true or false, got "maybe"',
      ],
      [
        () => loadConfig({ env: { SYNC_AUTH_MODE: 'open' }, cwd }),
        'SYNC_AUTH_MODE: must be one of none, token-whitelist, custom, got "open"',
      ],
      [
        () => loadConfig({ env: { SYNC_LOG_LEVEL: 'verbose' }, cwd }),
        'SYNC_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
      ],
      [
        () => loadConfig({ env: { SYNC_BASE_PATH: 'sync' }, cwd }),
        'SYNC_BASE_PATH: must be a URL path such as "/sync" ("/" for the root), got "sync"',
      ],
      [
        () => loadConfig({ env: { SYNC_CORS_ORIGIN: ', ,' }, cwd }),
        'SYNC_CORS_ORIGIN: must be true, false or a non-empty list of origins, got ", ,"',
      ],
      [() => loadConfig({ env: {}, cwd, argv: { port: '-1' } }), '--port: must be an integer 0–65535, got "-1"'],
      [
        () => loadConfig({ env: {}, cwd, argv: { allowResurrection: 'sometimes' } }),
        '--allow-resurrection: must be true or false, got "sometimes"',
      ],
      [() => loadConfig({ env: {}, cwd, argv: { colour: 'red' } }), 'command line: unknown option "colour"'],
      [
        () => loadConfig({ env: {}, cwd, overrides: { sync: { batchSize: -5 } } }),
        'overrides: sync.batchSize: must be an integer ≥ 1, got -5',
      ],
    ];
    for (const [run, message] of cases) expect(configError(run).message).toBe(message);
    expect(configError(() => loadConfig({ env: { SYNC_PORT: 'abc' }, cwd })).source).toBe('SYNC_PORT');
  });

  it('checks the config file: types, unknown keys, JSON', () => {
    const typed = workDir({ port: '80' });
    const file = join(typed, 'sync-coordinator.json');
    expect(configError(() => loadConfig({ env: {}, cwd: typed })).message).toBe(
      `${file}: port: must be an integer 0–65535, got "80"`,
    );

    const unknown = workDir({ prot: 80, sync: { batchsize: 5 }, logging: { level: 'warn' } });
    const unknownFile = join(unknown, 'sync-coordinator.json');
    expect(configError(() => loadConfig({ env: {}, cwd: unknown })).message).toBe(
      `${unknownFile}: 2 problems:\n` +
        `  ${unknownFile}: prot: unknown key (did you mean "port"?)\n` +
        `  ${unknownFile}: sync.batchsize: unknown key (did you mean "sync.batchSize"?)`,
    );

    const section = workDir({ sync: 5 });
    expect(configError(() => loadConfig({ env: {}, cwd: section })).message).toMatch(
      /: sync: must be an object, got 5$/,
    );

    const broken = workDir();
    writeFileSync(join(broken, 'sync-coordinator.json'), '{"port": 80,');
    expect(configError(() => loadConfig({ env: {}, cwd: broken })).message).toMatch(
      /sync-coordinator\.json: is not valid JSON/,
    );

    const notObject = workDir([1, 2]);
    expect(configError(() => loadConfig({ env: {}, cwd: notObject })).message).toMatch(
      /: must be an object, got \[1,2\]$/,
    );
  });

  it('accepts a reference config file, ignoring logging.namespaces', () => {
    const cwd = workDir({
      port: 8080,
      auth: { mode: 'token-whitelist', tokens: ['t1'] },
      sync: { batchSize: 500 },
      logging: { level: 'debug', namespaces: 'sync-coordinator:*' },
    });
    const config = loadConfig({ env: {}, cwd });
    expect(config.auth).toEqual({ mode: 'token-whitelist', tokens: ['t1'] });
    expect(config.logging).toEqual({ level: 'debug', format: 'auto' });
  });

  it('reads --config relative to cwd, and refuses a named file that is missing', () => {
    const cwd = workDir();
    mkdirSync(join(cwd, 'etc'));
    writeFileSync(join(cwd, 'etc', 'prod.json'), JSON.stringify({ port: 9000 }));
    expect(loadConfig({ env: {}, cwd, argv: { config: 'etc/prod.json' } }).port).toBe(9000);
    const missing = configError(() => loadConfig({ env: {}, cwd, argv: { config: 'etc/typo.json' } }));
    expect(missing.message).toBe(`--config: no such file ${join(cwd, 'etc', 'typo.json')}`);
  });

  it('lets tokens with no mode anywhere imply token-whitelist', () => {
    const cwd = workDir();
    expect(loadConfig({ env: { SYNC_AUTH_TOKENS: 'a,b' }, cwd }).auth).toEqual({
      mode: 'token-whitelist',
      tokens: ['a', 'b'],
    });
    expect(loadConfig({ env: {}, cwd, argv: { authTokens: 'c' } }).auth.mode).toBe('token-whitelist');
    expect(loadConfig({ env: {}, cwd: workDir({ auth: { tokens: ['f'] } }) }).auth.mode).toBe('token-whitelist');
    // A mode set in any layer stands.
    const custom = loadConfig({ env: { SYNC_AUTH_TOKENS: 'a' }, cwd: workDir({ auth: { mode: 'custom' } }) });
    expect(custom.auth).toEqual({ mode: 'custom', tokens: ['a'] });
  });

  it('refuses token-whitelist without tokens, and tokens under mode none', () => {
    const cwd = workDir();
    const noTokens = configError(() => loadConfig({ env: { SYNC_AUTH_MODE: 'token-whitelist' }, cwd }));
    expect(noTokens.source).toBe('auth.tokens');
    expect(noTokens.message).toMatch(/no tokens are set/);
    const blankTokens = configError(() =>
      loadConfig({ env: { SYNC_AUTH_MODE: 'token-whitelist', SYNC_AUTH_TOKENS: ', ,' }, cwd }),
    );
    expect(blankTokens.source).toBe('auth.tokens');
    const openWithTokens = configError(() =>
      loadConfig({ env: { SYNC_AUTH_MODE: 'none', SYNC_AUTH_TOKENS: 'a' }, cwd }),
    );
    expect(openWithTokens.source).toBe('auth.mode');
  });

  it('refuses a send high-water mark above the slow-reader bound', () => {
    const cwd = workDir();
    const env = { SYNC_MAX_BUFFERED_BYTES: '1024', SYNC_SEND_HIGH_WATER_BYTES: '2048' };
    const error = configError(() => loadConfig({ env, cwd }));
    expect(error.source).toBe('limits.sendHighWaterBytes');
    expect(error.message).toMatch(/must not exceed limits\.maxBufferedBytes \(1024\), got 2048/);
    expect(loadConfig({ env: { ...env, SYNC_SEND_HIGH_WATER_BYTES: '1024' }, cwd }).limits.sendHighWaterBytes).toBe(
      1024,
    );
  });
});

describe('validateConfig', () => {
  it('completes a partial config from the defaults without touching its input', () => {
    const partial = { cors: { origin: ['https://x.example'] }, auth: { tokens: ['t'] } };
    const config = validateConfig(partial);
    expect(config.cors).toEqual({ origin: ['https://x.example'], credentials: true });
    expect(config.auth).toEqual({ mode: 'token-whitelist', tokens: ['t'] });
    expect(config.port).toBe(3000);
    expect(partial).toEqual({ cors: { origin: ['https://x.example'] }, auth: { tokens: ['t'] } });
    expect(config.cors.origin).not.toBe(partial.cors.origin);
  });

  it('normalises base paths', () => {
    expect(validateConfig({ basePath: '/' }).basePath).toBe('');
    expect(validateConfig({ basePath: '/a/b//' }).basePath).toBe('/a/b');
  });

  it('reports every bad key at once, each with the key it most likely meant', () => {
    const error = configError(() =>
      validateConfig({
        batchSize: 10,
        prot: 1,
        port: 'x',
        limits: { maxConections: 5, maxConnections: -1 },
        sync: { retentionHorizon: 1 },
        nonsenseKeyWithNoNeighbour: true,
      }),
    );
    expect(error.source).toBe('config');
    expect(error.message.split('\n')).toEqual([
      'config: 7 problems:',
      '  batchSize: unknown key (did you mean "sync.batchSize"?)',
      '  prot: unknown key (did you mean "port"?)',
      '  port: must be an integer 0–65535, got "x"',
      '  limits.maxConections: unknown key (did you mean "limits.maxConnections"?)',
      expect.stringMatching(/^ {2}limits\.maxConnections: must be /),
      '  sync.retentionHorizon: unknown key (did you mean "sync.retentionHorizonMs"?)',
      '  nonsenseKeyWithNoNeighbour: unknown key',
    ]);
  });

  it('names the key of a bad or unknown value', () => {
    expect(configError(() => validateConfig({ host: '' })).message).toBe(
      'host: must be a host name or IP address, got ""',
    );
    expect(configError(() => validateConfig({ auth: { tokens: [' padded'] } })).source).toBe('auth.tokens');
    expect(configError(() => validateConfig({ cors: { origin: null } })).message).toBe(
      'cors.origin: must be true, false or a non-empty list of origins, got null',
    );
    expect(configError(() => validateConfig({ stores: { maxOpenStores: 3, maxOpen: 1 } })).message).toBe(
      'stores.maxOpen: unknown key',
    );
    expect(configError(() => validateConfig('port=1')).message).toBe('config: must be an object, got "port=1"');
  });
});
