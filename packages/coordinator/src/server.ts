// The coordinator as a network server: the service behind the Fastify app, with a start and a
// graceful stop (DESIGN item 9).
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createLogger } from './logging/index.js';
import { CoordinatorService, type CoordinatorServiceOptions } from './service/index.js';
import { checkDataDir } from './stores/index.js';
import { buildApp, SHUTDOWN_CLOSE } from './transport/index.js';

/** The service's options (the server defaults the logger to config.logging.level) plus the stop grace. */
export interface CoordinatorServerOptions extends CoordinatorServiceOptions {
  /** How long stop() lets open HTTP responses (e.g. snapshot streams) finish before cutting them. */
  readonly shutdownGraceMs?: number;
  /** A directory served at / beside the sync endpoints (see AppOptions.staticDir), e.g. a web app's build. */
  readonly staticDir?: string;
}

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export interface CoordinatorServer {
  /**
   * Listens on config.host:config.port (port 0 picks a free one). Throws DataDirError, before
   * listening, when config.dataDir cannot be created or written.
   */
  start(): Promise<ServerAddress>;
  /**
   * Graceful: readyz turns 503 and new work is refused, in-flight applies finish and are
   * answered, sockets close with 1001 "Server shutting down", then every store closes. Idempotent.
   */
  stop(): Promise<void>;
  address(): ServerAddress | undefined;
  readonly service: CoordinatorService;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export function createCoordinatorServer(options: CoordinatorServerOptions): CoordinatorServer {
  const logger = options.logger ?? createLogger(options.config.logging.level, undefined, options.config.logging.format);
  const service = new CoordinatorService({
    config: options.config,
    logger,
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(options.storeHooks ? { storeHooks: options.storeHooks } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.fanout ? { fanout: options.fanout } : {}),
    ...(options.hookTimeoutMs !== undefined ? { hookTimeoutMs: options.hookTimeoutMs } : {}),
    ...(options.openReplica ? { openReplica: options.openReplica } : {}),
  });
  let app: FastifyInstance | undefined;
  let listening: ServerAddress | undefined;
  let ready = false;
  let stopping: Promise<void> | undefined;

  async function closeApp(instance: FastifyInstance): Promise<void> {
    const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn({ graceMs: grace }, 'cutting HTTP responses still open after the shutdown grace');
        instance.server.closeAllConnections();
        resolve();
      }, grace);
    });
    await Promise.race([instance.close(), cut]);
    clearTimeout(timer);
    // Sockets that did not finish the close handshake are dropped, so nothing keeps the process up.
    for (const client of instance.websocketServer?.clients ?? []) client.terminate();
  }

  return {
    service,
    address: () => listening,
    async start() {
      if (stopping) throw new Error('Server is stopped');
      if (listening) return listening;
      // Before listening: a server that cannot write its databases must not take traffic.
      checkDataDir(options.config.dataDir);
      // A cluster node connects to NATS first: it takes no traffic it cannot make durable.
      await service.start();
      app ??= await buildApp({
        service,
        logger,
        isReady: () => ready,
        ...(options.staticDir !== undefined ? { staticDir: options.staticDir } : {}),
      });
      await app.listen({ host: options.config.host, port: options.config.port });
      const bound = app.server.address() as AddressInfo;
      listening = { host: bound.address, port: bound.port };
      ready = true;
      return listening;
    },
    stop() {
      stopping ??= (async () => {
        ready = false;
        service.beginShutdown();
        await service.drain();
        service.closeConnections(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason);
        if (app) await closeApp(app);
        listening = undefined;
        await service.close();
      })();
      return stopping;
    },
  };
}
