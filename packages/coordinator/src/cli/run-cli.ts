import type { DestinationStream } from 'pino';
import { ConfigError, loadConfig } from '../config/index.js';
import type { CoordinatorConfig, Environment } from '../config/index.js';
import { createLogger } from '../logging/index.js';
import type { CliOutput } from './program.js';
import { parseCliArgs, USAGE_ERROR } from './program.js';
import { startupBanner } from './startup-banner.js';

const isErrno = (error: unknown, code: string): boolean =>
  error instanceof Error && (error as NodeJS.ErrnoException).code === code;

type StopSignal = 'SIGINT' | 'SIGTERM';
const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

/** Where stop signals come from: the process, or an emitter in a test. */
export interface SignalSource {
  on(event: StopSignal, listener: (signal: StopSignal) => void): unknown;
  off(event: StopSignal, listener: (signal: StopSignal) => void): unknown;
}

export interface CliContext {
  /** Where a relative config path is resolved; process.cwd() by default. */
  cwd?: string;
  /** Help, version and errors; process.stdout / process.stderr by default. */
  output?: CliOutput;
  /** Log lines; stdout by default. */
  logDestination?: DestinationStream;
  signals?: SignalSource;
  /** Ends the process at once on a second stop signal; process.exit by default. */
  forceExit?: (code: number) => void;
  /** Told where the server listens, once it does. */
  onListening?: (address: { host: string; port: number }) => void;
  /** A directory the server also serves at / (a web app's build); see CoordinatorServerOptions.staticDir. */
  staticDir?: string;
}

const processOutput: CliOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * The `syncord` program: parse the command line, load and validate the config, run the server
 * until SIGINT or SIGTERM, then stop it gracefully. Resolves with the exit status: 0 after a clean
 * stop (or help), 1 when the server fails, 2 for a usage or configuration error (a data directory
 * that cannot be created or written included). A second signal
 * while stopping exits at once with 1.
 */
export async function runCli(argv: readonly string[], env: Environment, context: CliContext = {}): Promise<number> {
  const output = context.output ?? processOutput;
  if (argv[0] === 'restore') {
    const { runRestoreCommand } = await import('./restore-command.js');
    return runRestoreCommand(argv.slice(1), env, { output, cwd: context.cwd ?? process.cwd() });
  }
  const parsed = parseCliArgs(argv, output);
  if (parsed.kind === 'exit') return parsed.code;

  let config: CoordinatorConfig;
  try {
    config = loadConfig({ argv: parsed.options, env, cwd: context.cwd ?? process.cwd() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    output.stderr(`${error.name}: ${error.message}\n`);
    return USAGE_ERROR;
  }

  const logger = createLogger(config.logging.level, context.logDestination, config.logging.format);
  const signals: SignalSource = context.signals ?? process;
  const forceExit = context.forceExit ?? ((code: number) => process.exit(code));
  let received: StopSignal | undefined;
  let wake: (signal: StopSignal) => void = () => {};
  const stopRequested = new Promise<StopSignal>((resolve) => (wake = resolve));
  // Listening before start, so a signal during startup stops the server once it is up.
  const onSignal = (signal: StopSignal): void => {
    if (received === undefined) {
      received = signal;
      wake(signal);
      return;
    }
    logger.warn({ signal }, 'second stop signal: exiting without waiting for shutdown');
    forceExit(1);
  };
  for (const signal of STOP_SIGNALS) signals.on(signal, onSignal);

  try {
    // Loaded here so --help and config errors do not pay for the server's modules.
    const [{ createCoordinatorServer }, { DataDirError }, { StaticDirError }] = await Promise.all([
      import('../server.js'),
      import('../stores/index.js'),
      import('../transport/index.js'),
    ]);
    const staticDir = context.staticDir;
    const server = createCoordinatorServer({ config, logger, ...(staticDir !== undefined ? { staticDir } : {}) });
    let address: { host: string; port: number };
    try {
      address = await server.start();
    } catch (error) {
      await server.stop().catch(() => undefined);
      // A data directory it cannot write is a configuration error, said in one line like the others.
      if (error instanceof DataDirError || error instanceof StaticDirError) {
        output.stderr(`${error.name}: ${error.message}\n`);
        return USAGE_ERROR;
      }
      if (isErrno(error, 'EADDRINUSE')) {
        output.stderr(
          `syncord: ${config.host}:${config.port} is already in use; choose another port with --port (or SYNC_PORT)\n`,
        );
        return 1;
      }
      logger.fatal({ err: error }, 'coordinator failed to start');
      return 1;
    }
    logger.debug({ config }, 'configuration');
    const banner = startupBanner(config, address);
    logger.info(banner.fields, banner.message);
    context.onListening?.(address);

    const signal = await stopRequested;
    logger.info({ signal }, 'stopping: finishing in-flight work');
    try {
      await server.stop();
    } catch (error) {
      logger.error({ err: error }, 'graceful stop failed');
      return 1;
    }
    logger.info('stopped');
    return 0;
  } catch (error) {
    logger.fatal({ err: error }, 'coordinator failed');
    return 1;
  } finally {
    for (const signal of STOP_SIGNALS) signals.off(signal, onSignal);
  }
}
