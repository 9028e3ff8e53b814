import { readFileSync } from 'node:fs';
import { Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { configTableMarkdown } from './config-table.js';
import { isPlainObject } from './config-keys.js';
import { attributeOf, CONFIG_FILE_OPTION, CONFIG_OPTIONS, flagsOf, formatDefault, optionFor } from './options.js';
import { DEFAULT_CONFIG } from './types.js';

const README = new URL('../../../../README.md', import.meta.url);

/** PROTOCOL.md §9's variable names; every other variable is SYNC_ + the key's last part in upper snake case. */
const PROTOCOL_ENV: Record<string, string> = {
  'cors.origin': 'SYNC_CORS_ORIGIN',
  'cors.credentials': 'SYNC_CORS_CREDENTIALS',
  'auth.mode': 'SYNC_AUTH_MODE',
  'auth.tokens': 'SYNC_AUTH_TOKENS',
  'logging.level': 'SYNC_LOG_LEVEL',
};
/**
 * Sections whose variables and flags carry the section's name: PROTOCOL.md §10's (S3_BUCKET,
 * DISK_EVICTION_IDLE_MS) and `metrics` (a bare SYNC_TOKEN would read as the auth token).
 */
const SECTION_PREFIX: Record<string, { env: string; flag: string }> = {
  s3: { env: 'S3_', flag: 's3-' },
  diskEviction: { env: 'DISK_EVICTION_', flag: 'disk-eviction-' },
  logging: { env: 'SYNC_LOG_', flag: 'log-' },
  metrics: { env: 'SYNC_METRICS_', flag: 'metrics-' },
  admin: { env: 'SYNC_ADMIN_', flag: 'admin-' },
  cluster: { env: 'SYNC_CLUSTER_', flag: 'cluster-' },
};
/** Cluster keys an operator types on every node's command line keep short names (--nats-url). */
const SHORT_NAMES: Record<string, { env: string; flag: string }> = {
  'cluster.natsUrl': { env: 'SYNC_NATS_URL', flag: 'nats-url' },
  'cluster.nodeName': { env: 'SYNC_NODE_NAME', flag: 'node-name' },
};
const sectionOf = (key: string): string => key.slice(0, Math.max(0, key.indexOf('.')));
const upperSnake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const lastPart = (key: string): string => key.slice(key.lastIndexOf('.') + 1);

describe('the config option table', () => {
  it('has exactly one option per key of the config', () => {
    const leaves = Object.entries(DEFAULT_CONFIG).flatMap(([name, value]) =>
      isPlainObject(value) ? Object.keys(value).map((leaf) => `${name}.${leaf}`) : [name],
    );
    expect(CONFIG_OPTIONS.map((o) => o.key).sort()).toEqual(leaves.sort());
  });

  it('names variables and flags consistently, each once', () => {
    for (const option of CONFIG_OPTIONS) {
      const short = SHORT_NAMES[option.key];
      if (short) {
        expect([option.env, option.flag]).toEqual([short.env, short.flag]);
        continue;
      }
      const prefix = SECTION_PREFIX[sectionOf(option.key)] ?? { env: 'SYNC_', flag: '' };
      expect(option.env).toBe(PROTOCOL_ENV[option.key] ?? `${prefix.env}${upperSnake(lastPart(option.key))}`);
      if (!(option.key in PROTOCOL_ENV)) expect(option.flag).toBe(prefix.flag + kebab(lastPart(option.key)));
    }
    const unique = (values: unknown[]): void => expect(new Set(values).size).toBe(values.length);
    unique(CONFIG_OPTIONS.map((o) => o.env));
    unique([...CONFIG_OPTIONS.map((o) => o.flag), CONFIG_FILE_OPTION.flag]);
    unique([...CONFIG_OPTIONS.flatMap((o) => (o.short === undefined ? [] : [o.short])), CONFIG_FILE_OPTION.short]);
  });

  it('keeps the flags of PROTOCOL.md §9', () => {
    expect(flagsOf(optionFor('host'))).toBe('--host <host>');
    expect(flagsOf(optionFor('port'))).toBe('-p, --port <port>');
    expect(flagsOf(optionFor('basePath'))).toBe('-b, --base-path <path>');
    expect(flagsOf(optionFor('dataDir'))).toBe('-d, --data-dir <dir>');
    expect(flagsOf(optionFor('cors.origin'))).toBe('--cors-origin <origins>');
    expect(flagsOf(optionFor('auth.mode'))).toBe('--auth-mode <mode>');
    expect(flagsOf(optionFor('auth.tokens'))).toBe('--auth-tokens <list>');
    expect(flagsOf(CONFIG_FILE_OPTION)).toBe('-c, --config <path>');
  });

  it('maps flags to the attribute names commander uses', () => {
    for (const option of CONFIG_OPTIONS) {
      expect(attributeOf(option.flag)).toBe(new Option(flagsOf(option)).attributeName());
    }
  });

  it('formats defaults for people', () => {
    expect(formatDefault(optionFor('sync.retentionHorizonMs'))).toBe('2592000000 (30 d)');
    expect(formatDefault(optionFor('limits.maxMessageBytes'))).toBe('16777216 (16 MiB)');
    expect(formatDefault(optionFor('auth.tokens'))).toBe('(none)');
    expect(formatDefault(optionFor('cors.origin'))).toBe('true');
  });

  it('is the configuration table of README.md', () => {
    for (const option of CONFIG_OPTIONS) expect(option.description).not.toMatch(/[|\n]/);
    const readme = readFileSync(README, 'utf8');
    // On failure, paste the expected table (printed in the diff) into README.md.
    expect(readme.includes(configTableMarkdown()) ? configTableMarkdown() : readme).toBe(configTableMarkdown());
  });
});
