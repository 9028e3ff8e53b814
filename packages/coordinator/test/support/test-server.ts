// A real coordinator on 127.0.0.1, port 0, with its data in a fresh temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_CONFIG, createCoordinatorServer, type CoordinatorConfig } from '@syncord/coordinator';
import type { CoordinatorServer, CoordinatorServerOptions } from '@syncord/coordinator';

export type ConfigOverrides = {
  [K in keyof CoordinatorConfig]?: CoordinatorConfig[K] extends object
    ? Partial<CoordinatorConfig[K]>
    : CoordinatorConfig[K];
};

export function tempDir(prefix = 'syncord-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function testConfig(dataDir: string, overrides: ConfigOverrides = {}): CoordinatorConfig {
  const base: CoordinatorConfig = {
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logging: { ...DEFAULT_CONFIG.logging, level: 'silent' },
  };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = (base as unknown as Record<string, unknown>)[key];
    merged[key] =
      typeof value === 'object' && value !== null && !Array.isArray(value) && typeof current === 'object'
        ? { ...(current as object), ...value }
        : value;
  }
  return merged as unknown as CoordinatorConfig;
}

export interface TestServer {
  readonly server: CoordinatorServer;
  readonly dataDir: string;
  readonly ws: string;
  readonly http: string;
  readonly origin: string;
  stop(): Promise<void>;
}

export async function startTestServer(
  options: Omit<CoordinatorServerOptions, 'config'> & { config?: ConfigOverrides; dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const { config, dataDir: _ignored, ...rest } = options;
  const server = createCoordinatorServer({ ...rest, config: testConfig(dataDir, config) });
  const { port } = await server.start();
  const basePath = server.service.config.basePath;
  const origin = `http://127.0.0.1:${port}`;
  return {
    server,
    dataDir,
    origin,
    ws: `ws://127.0.0.1:${port}${basePath}/ws`,
    http: `${origin}${basePath}`,
    async stop() {
      await server.stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
