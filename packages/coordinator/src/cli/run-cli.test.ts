import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_FILE_OPTION, CONFIG_OPTIONS, flagsOf, loadConfig } from '../config/index.js';
import { parseCliArgs } from './program.js';
import { RESTORE_KEYS } from './restore-command.js';
import type { CliContext } from './run-cli.js';
import { runCli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'syncord-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function collect(): { output: NonNullable<CliContext['output']>; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    output: { stdout: (t) => void (out += t), stderr: (t) => void (err += t) },
    out: () => out,
    err: () => err,
  };
}

/** Log lines written by the CLI's logger, parsed. */
function logSink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const lines = () =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines };
}

describe('syncord command line', () => {
  it('--help lists every option with its variable, and exits 0', async () => {
    const io = collect();
    expect(await runCli(['--help'], {}, { output: io.output })).toBe(0);
    const help = io.out();
    for (const option of CONFIG_OPTIONS) {
      expect(help).toContain(flagsOf(option));
      expect(help).toContain(`[${option.env}]`);
    }
    expect(help).toContain(flagsOf(CONFIG_FILE_OPTION));
    expect(help).toContain('-h, --help');
    expect(help).toContain('-V, --version');
    const io2 = collect();
    expect(await runCli(['-h'], {}, { output: io2.output })).toBe(0);
    expect(io2.out()).toBe(help);
  });

  it('restore --help offers only what a restore reads', async () => {
    const io = collect();
    expect(await runCli(['restore', '-h'], {}, { output: io.output })).toBe(0);
    const help = io.out();
    for (const option of CONFIG_OPTIONS) {
      if (RESTORE_KEYS.includes(option.key)) expect(help).toContain(flagsOf(option));
      else expect(help).not.toContain(`--${option.flag} `);
    }
    for (const own of ['--database <id>', '--at <time>', '--out <dir>', flagsOf(CONFIG_FILE_OPTION)])
      expect(help).toContain(own);
  });

  it('--version prints the package version', async () => {
    const io = collect();
    expect(await runCli(['--version'], {}, { output: io.output })).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(io.out().trim()).toBe(pkg.version);
  });

  it('takes the host only as --host: -h is help', () => {
    const parsed = parseCliArgs(['--host', '127.0.0.1', '-p', '0', '-c', 'x.json'], collect().output);
    expect(parsed).toEqual({ kind: 'run', options: { host: '127.0.0.1', port: '0', config: 'x.json' } });
  });

  it('reads a bare boolean flag as true and an explicit value as given', () => {
    const output = collect().output;
    expect(parseCliArgs(['--allow-resurrection', '--cors-credentials', 'false'], output)).toEqual({
      kind: 'run',
      options: { allowResurrection: true, corsCredentials: 'false' },
    });
    const config = loadConfig({ env: {}, cwd: root, argv: { allowResurrection: true, corsCredentials: 'false' } });
    expect([config.sync.allowResurrection, config.cors.credentials]).toEqual([true, false]);
  });

  it('exits 2 on a usage error', async () => {
    const io = collect();
    expect(await runCli(['--colour', 'red'], {}, { output: io.output })).toBe(2);
    expect(io.err()).toContain("unknown option '--colour'");
    const extra = collect();
    expect(await runCli(['serve'], {}, { output: extra.output })).toBe(2);
  });

  it('exits 2 with the ConfigError on a bad value, before starting anything', async () => {
    const io = collect();
    const logs = logSink();
    const code = await runCli(['--port', 'abc'], {}, { output: io.output, cwd: root, logDestination: logs.stream });
    expect(code).toBe(2);
    expect(io.err()).toBe('ConfigError: --port: must be an integer 0–65535, got "abc"\n');
    expect(logs.lines()).toEqual([]);

    const env = collect();
    expect(await runCli([], { SYNC_AUTH_MODE: 'token-whitelist' }, { output: env.output, cwd: root })).toBe(2);
    expect(env.err()).toMatch(/^ConfigError: auth\.tokens: /);

    const missing = collect();
    expect(await runCli(['-c', 'nope.json'], {}, { output: missing.output, cwd: root })).toBe(2);
    expect(missing.err()).toBe(`ConfigError: --config: no such file ${join(root, 'nope.json')}\n`);
  });

  it('exits 2 with one line when the data directory cannot be created or written, before listening', async () => {
    // Under a regular file no directory can be made, even as root (where chmod stops nothing).
    const blocker = join(root, 'blocker');
    writeFileSync(blocker, 'a file');
    for (const dataDir of [join(blocker, 'data'), blocker]) {
      const io = collect();
      const logs = logSink();
      const listening: unknown[] = [];
      const code = await runCli(
        ['--host', '127.0.0.1', '-p', '0', '-d', dataDir],
        {},
        {
          output: io.output,
          cwd: root,
          logDestination: logs.stream,
          signals: new EventEmitter(),
          onListening: (address) => listening.push(address),
        },
      );
      expect(code).toBe(2);
      expect(io.err()).toMatch(
        new RegExp(`^DataDirError: data directory ${dataDir} is not writable: E[A-Z]+[^\n]*\n$`),
      );
      expect(listening).toEqual([]);
    }
  });

  it('the bin exits 2 on a config error', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, SYNC_PORT: 'abc' },
      cwd: fileURLToPath(new URL('../..', import.meta.url)), // where `--import tsx` resolves
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('ConfigError: SYNC_PORT: must be an integer 0–65535, got "abc"\n');
    expect(code).toBe(2);
  });
});

describe('syncord serving', () => {
  it('serves until SIGTERM, then stops gracefully and exits 0', async () => {
    const signals = new EventEmitter();
    const logs = logSink();
    const forced: number[] = [];
    let listening: (address: { host: string; port: number }) => void = () => {};
    const address = new Promise<{ host: string; port: number }>((resolve) => (listening = resolve));
    const done = runCli(
      ['--host', '127.0.0.1', '-p', '0', '-d', join(root, 'data'), '--base-path', '/api/sync'],
      { SYNC_AUTH_TOKENS: 'secret-token', SYNC_METRICS_TOKEN: 'scrape-token' },
      { signals, logDestination: logs.stream, onListening: listening, forceExit: (c) => forced.push(c), cwd: root },
    );
    const { host, port } = await address;
    expect(host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);

    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const status = await fetch(`http://127.0.0.1:${port}/api/sync/status`);
    expect(status.status).toBe(200);
    expect(((await status.json()) as { ok: boolean }).ok).toBe(true);
    const metricsUrl = `http://127.0.0.1:${port}/api/sync/metrics`;
    expect((await fetch(metricsUrl)).status).toBe(401);
    const metrics = await (await fetch(metricsUrl, { headers: { authorization: 'Bearer scrape-token' } })).text();
    expect(metrics).toContain('sync_websocket_connections_total');

    signals.emit('SIGTERM', 'SIGTERM');
    signals.emit('SIGINT', 'SIGINT'); // a second signal forces the exit
    expect(await done).toBe(0);
    expect(forced).toEqual([1]);
    expect(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT')).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/api/sync/status`)).rejects.toThrow();

    const messages = logs.lines().map((l) => l.msg);
    const banner = logs.lines().find((l) => String(l.msg).startsWith('Syncord ready'));
    expect(banner).toMatchObject({
      url: `ws://127.0.0.1:${port}/api/sync/ws`,
      dataDir: join(root, 'data'),
      auth: 'token-whitelist',
      s3: 'off',
      cluster: 'off',
    });
    expect(messages).not.toContain('configuration'); // the config dump is a debug line
    expect(messages).toContain('stopped');
    expect(JSON.stringify(logs.lines())).not.toContain('secret-token');
    expect(JSON.stringify(logs.lines())).not.toContain('scrape-token');
  });

  it('exits 1 with one clear line when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = blocker.address() as AddressInfo;
      const logs = logSink();
      const io = collect();
      const code = await runCli(
        ['--host', '127.0.0.1', '-p', String(port), '-d', join(root, 'data2')],
        {},
        {
          signals: new EventEmitter(),
          logDestination: logs.stream,
          output: io.output,
          cwd: root,
        },
      );
      expect(code).toBe(1);
      expect(io.err()).toBe(
        `syncord: 127.0.0.1:${port} is already in use; choose another port with --port (or SYNC_PORT)\n`,
      );
      expect(logs.lines().some((l) => l.level === 'fatal')).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
