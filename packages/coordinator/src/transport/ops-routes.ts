// Operational routes: status and metrics under basePath (PROTOCOL.md §4), liveness and readiness
// at the root where orchestrators look for them.
import type { FastifyInstance } from 'fastify';
import type { CoordinatorService } from '../service/index.js';

export function registerStatusRoutes(app: FastifyInstance, service: CoordinatorService): void {
  app.get('/status', async () => ({ ok: true, data: service.status() }));
  app.get('/metrics', async (_request, reply) => {
    const { registry } = service.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/** `isReady` is true once listening and until shutdown begins. */
export function registerHealthRoutes(app: FastifyInstance, isReady: () => boolean): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) =>
    isReady() ? { ok: true } : reply.code(503).send({ ok: false, error: { code: 'NOT_READY', message: 'Not ready' } }),
  );
}
