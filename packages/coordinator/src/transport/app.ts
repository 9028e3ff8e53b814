// The Fastify application: CORS, WebSocket, the HTTP routes, request metrics and the error
// envelope. It only adapts; everything it does goes through the service.
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { CoordinatorService } from '../service/index.js';
import { envelopeError } from './error-mapping.js';
import { Heartbeat } from './heartbeat.js';
import { registerHealthRoutes, registerStatusRoutes } from './ops-routes.js';
import type { Corkable, SocketSenderOptions } from './socket-sender.js';
import { registerSyncRoutes } from './sync-routes.js';
import { registerAdminRoutes } from './admin-routes.js';
import { registerStaticFiles } from './static-files.js';
import { releaseUpgrade } from './upgrade-release.js';
import { handleWebSocket, socketErrorListener } from './ws-handler.js';

export interface AppOptions {
  readonly service: CoordinatorService;
  readonly logger: Logger;
  /** True while the server should receive traffic (readyz). */
  readonly isReady: () => boolean;
  /**
   * A directory (e.g. a built web app) served at / for every path no coordinator route takes,
   * nothing under basePath included. Checked at build time: StaticDirError if it is not a directory.
   */
  readonly staticDir?: string;
}

/** Send-buffer bounds from the config, reporting the peak buffer and slow-consumer closes. */
function senderOptions(service: CoordinatorService, logger: Logger): SocketSenderOptions {
  const { config, metrics } = service;
  let peak = 0;
  return {
    highWaterBytes: config.limits.sendHighWaterBytes,
    maxBufferedBytes: config.limits.maxBufferedBytes,
    onBuffered: (bytes) => {
      if (bytes <= peak) return;
      peak = bytes;
      metrics.sendBufferPeakBytes.set(bytes);
    },
    onTooFarBehind: (bytes) => {
      metrics.limitRejectionsTotal.inc({ limit: 'maxBufferedBytes' });
      logger.warn({ bufferedBytes: bytes }, 'client too far behind: closing with 1013');
    },
  };
}

/** `/sync/` and `/sync` → `/sync`; `/` and `` → `` (routes then sit at the root). */
export function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  return trimmed === '' ? '' : trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { service, logger } = options;
  const { config, metrics } = service;
  // Typed as Fastify's base logger so routes and plugins see the default instance type.
  const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, bodyLimit: config.limits.maxBodyBytes });

  app.addHook('onResponse', async (request, reply) => {
    if (request.ws) return;
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequestsTotal.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.httpRequestDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') metrics.limitRejectionsTotal.inc({ limit: 'maxBodyBytes' });
    if (status >= 500) logger.error({ err: error }, 'request failed');
    const code = status < 500 ? 'INVALID_BODY' : 'INTERNAL_ERROR';
    metrics.errorsTotal.inc({ code });
    return reply.code(status).send(envelopeError({ code, message: error.message }));
  });

  /** An oversized frame (ws has already started closing with 1009) or a broken socket. */
  const onSocketError = (error: Error, socket: WebSocket, log: FastifyBaseLogger): void => {
    if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      metrics.limitRejectionsTotal.inc({ limit: 'maxMessageBytes' });
    }
    log.warn({ err: error }, 'websocket error');
    if (socket.readyState === socket.OPEN) socket.terminate();
  };
  // After the upgrade: one listener for every socket, so none keeps a closure (or its request).
  const socketError = socketErrorListener((error, socket) => onSocketError(error, socket, app.log));

  await app.register(cors, { origin: config.cors.origin, credentials: config.cors.credentials });
  await app.register(websocket, {
    // No permessage-deflate: compressing every push costs CPU and latency on the fanout path.
    options: { maxPayload: config.limits.maxMessageBytes, perMessageDeflate: false },
    errorHandler: (error, socket, request) => onSocketError(error, socket, request.log),
  });

  registerHealthRoutes(app, service, options.isReady);
  const sender = senderOptions(service, logger);
  const heartbeat = new Heartbeat(config.sync.pingIntervalMs, () => {
    metrics.pingTimeoutsTotal.inc();
    logger.info('no pong since the last ping: terminating the socket');
  });
  app.addHook('onClose', async () => heartbeat.stop());
  await app.register(
    async (scope) => {
      scope.get('/ws', { websocket: true }, (socket, request) => {
        // Upgraded requests are hijacked and never reach onResponse: count them here.
        metrics.httpRequestsTotal.inc({ route: request.routeOptions.url ?? 'ws', method: 'GET', status: '101' });
        // The upgraded TCP socket ws writes to (absent for in-memory sockets, e.g. injectWS).
        const tcp = (request.raw as { socket?: Partial<Corkable> }).socket;
        releaseUpgrade(socket, tcp, socketError);
        const corkable = typeof tcp?.cork === 'function' && typeof tcp.uncork === 'function';
        handleWebSocket(
          service,
          socket,
          request,
          { logger: app.log, reqId: request.id },
          {
            sender,
            heartbeat,
            ...(corkable ? { tcp: tcp as Corkable } : {}),
          },
        );
      });
      registerStatusRoutes(scope, service);
      registerAdminRoutes(scope, service, normalizeBasePath(config.basePath));
      registerSyncRoutes(scope, service);
    },
    { prefix: normalizeBasePath(config.basePath) },
  );
  if (options.staticDir !== undefined) registerStaticFiles(app, options.staticDir, normalizeBasePath(config.basePath));
  return app;
}
