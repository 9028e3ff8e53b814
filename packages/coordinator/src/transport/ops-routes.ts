// Operational routes: status and metrics under basePath (PROTOCOL.md §4; metrics behind a token
// once auth is on), liveness and readiness at the root where orchestrators look for them.
import type { FastifyInstance } from 'fastify';
import type { CoordinatorService } from '../service/index.js';
import { envelopeError } from './error-mapping.js';
import { bearerToken } from './http-auth.js';
import { metricsGate } from './metrics-access.js';

export function registerStatusRoutes(app: FastifyInstance, service: CoordinatorService): void {
  app.get('/status', async () => ({ ok: true, data: service.status() }));
  const gate = metricsGate(service.config);
  app.get('/metrics', async (request, reply) => {
    const refusal = gate(bearerToken(request));
    if (refusal) {
      if (refusal.status === 401) reply.header('www-authenticate', 'Bearer');
      return reply.code(refusal.status).send(envelopeError(refusal));
    }
    const { registry } = service.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}

/**
 * healthz: the process runs (liveness). readyz: 503 while listening has not begun or shutdown has,
 * or while the data directory takes no write, with every reason in the body; 200 otherwise, with
 * the S3 state as information (an S3 outage does not take the server out: applies wait in the
 * outbox). `isReady` is true once listening and until shutdown begins.
 */
export function registerHealthRoutes(app: FastifyInstance, service: CoordinatorService, isReady: () => boolean): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const reasons = service.readinessProblems();
    if (!isReady() && reasons.length === 0) reasons.push(service.accepting ? 'starting' : 'shutting down');
    const s3 = service.s3State();
    if (reasons.length === 0) return { ok: true, data: { s3 } };
    const message = `Not ready: ${reasons.join('; ')}`;
    return reply.code(503).send({ ok: false, error: { code: 'NOT_READY', message, reasons }, data: { s3 } });
  });
}
