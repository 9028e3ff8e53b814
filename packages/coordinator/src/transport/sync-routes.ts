// The HTTP sync routes (PROTOCOL.md §4): changes (GET, POST) and the NDJSON snapshot. Order:
// databaseId (400) → authentication (401) → operation; every answer in the {ok, data|error}
// envelope, every value through the core codecs.
import { Readable } from 'node:stream';
import { decodeApplyChanges, decodeGetChanges, encodeChangeSet, ProtocolError } from '@syncord/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientMessage, type CoordinatorService, type RequestSession } from '../service/index.js';
import { envelopeError, httpFailure, type HttpFailure, type HttpOperationCode } from './error-mapping.js';
import { requestAuth } from './http-auth.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One line per chunk; a failure after the first line ends the body with an `{"error":…}` line. */
async function* ndjson(
  first: string,
  rest: AsyncGenerator<string, void, undefined>,
  finish: () => void,
): AsyncGenerator<string> {
  try {
    yield `${first}\n`;
    for await (const chunk of rest) yield `${chunk}\n`;
  } catch (err) {
    yield `${JSON.stringify({ error: err instanceof ProtocolError ? err.message : clientMessage(err) })}\n`;
  } finally {
    finish();
  }
}

export function registerSyncRoutes(app: FastifyInstance, service: CoordinatorService): void {
  function sendFailure(reply: FastifyReply, failure: HttpFailure): FastifyReply {
    service.metrics.errorsTotal.inc({ code: failure.code });
    return reply.code(failure.status).send(envelopeError(failure));
  }

  /** Opens the request's session, or answers the failure and returns undefined. */
  async function open(
    request: FastifyRequest,
    reply: FastifyReply,
    operation: HttpOperationCode,
  ): Promise<RequestSession | undefined> {
    const { databaseId } = request.params as { databaseId: string };
    if (!service.accepting) {
      sendFailure(reply, { status: 503, code: operation, message: 'Server shutting down' });
      return undefined;
    }
    try {
      return await service.openRequest(requestAuth(request, databaseId));
    } catch (err) {
      sendFailure(reply, httpFailure(err, operation));
      return undefined;
    }
  }

  app.get('/:databaseId/changes', async (request, reply) => {
    const session = await open(request, reply, 'GET_CHANGES_FAILED');
    if (!session) return reply;
    try {
      const query = { ...(request.query as Record<string, unknown>) };
      // An unencoded `+` of a standard-base64 HLC arrives as a space after query decoding.
      if (typeof query['sinceHLC'] === 'string') query['sinceHLC'] = query['sinceHLC'].replaceAll(' ', '+');
      const { sinceHLC } = decodeGetChanges(query);
      const changeSets = await service.getChanges(session, sinceHLC);
      const body = JSON.stringify({ ok: true, data: { changes: changeSets.map(encodeChangeSet) } });
      return reply.type('application/json; charset=utf-8').send(body);
    } catch (err) {
      return sendFailure(reply, httpFailure(err, 'GET_CHANGES_FAILED'));
    } finally {
      session.end();
    }
  });

  app.post('/:databaseId/changes', async (request, reply) => {
    const session = await open(request, reply, 'APPLY_CHANGES_FAILED');
    if (!session) return reply;
    try {
      let decoded: ReturnType<typeof decodeApplyChanges>;
      try {
        if (!isObject(request.body)) throw new Error('Body must be a JSON object with a "changes" array');
        decoded = decodeApplyChanges(request.body);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return sendFailure(reply, { status: 400, code: 'INVALID_BODY', message });
      }
      const outcome = await service.applyChanges(session, decoded.changeSets);
      return reply.send({ ok: true, data: outcome });
    } catch (err) {
      return sendFailure(reply, httpFailure(err, 'APPLY_CHANGES_FAILED'));
    } finally {
      session.end();
    }
  });

  app.get('/:databaseId/snapshot', async (request, reply) => {
    const session = await open(request, reply, 'SNAPSHOT_FAILED');
    if (!session) return reply;
    const chunks = service.snapshot(session);
    let first: IteratorResult<string, void>;
    try {
      // The first chunk is read before the status is sent, so a refusal (authorization, a bad
      // store) still gets a real status; only later failures need the error line.
      first = await chunks.next();
    } catch (err) {
      session.end();
      return sendFailure(reply, httpFailure(err, 'SNAPSHOT_FAILED'));
    }
    if (first.done) {
      session.end();
      return reply.type('application/x-ndjson').send('');
    }
    // Runs once, when the body ends or the client goes away (even before the body is first read,
    // when the line generator never starts and so never reaches its own finally).
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      chunks.return(undefined).catch(() => undefined);
      session.end();
    };
    reply.raw.once('close', finish);
    const body = Readable.from(ndjson(first.value, chunks, finish), { objectMode: false });
    return reply.type('application/x-ndjson').send(body);
  });
}
