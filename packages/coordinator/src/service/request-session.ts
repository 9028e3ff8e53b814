// An HTTP request's session (PROTOCOL.md §4): databaseId check (400), then authentication (401),
// then onClientConnect as on a WebSocket handshake (403), then a store reference held until the
// response is finished, streams included (a store that cannot open now is 503 STORAGE_UNAVAILABLE).
import { randomUUID } from 'node:crypto';
import { decodeSiteId, ProtocolError, type SiteId } from '@syncord/core';
import { InvalidDatabaseIdError } from '../stores/index.js';
import { approveConnect } from './approve-connect.js';
import { authenticate } from './authenticate.js';
import type { ServiceContext } from './context.js';
import { describeError } from './errors.js';
import type { Session } from './session.js';
import { openSessionStore } from './store-open.js';
import type { ClientIdentity } from './types.js';

export interface RequestAuth {
  readonly databaseId: string;
  /** From `Authorization` (a leading "Bearer " stripped). */
  readonly token?: string;
  /** From `X-Site-Id`. */
  readonly siteIdRaw?: string;
  readonly request?: unknown;
}

export interface RequestSession extends Session {
  /** Releases the store reference; idempotent. */
  end(): void;
}

async function identify(ctx: ServiceContext, input: RequestAuth): Promise<ClientIdentity> {
  ctx.metrics.authAttemptsTotal.inc();
  try {
    let siteId: SiteId | undefined;
    if (input.siteIdRaw !== undefined) {
      try {
        siteId = decodeSiteId(input.siteIdRaw, 'X-Site-Id');
      } catch (err) {
        throw new Error(`Invalid X-Site-Id: ${describeError(err)}`);
      }
    }
    return await authenticate(
      {
        databaseId: input.databaseId,
        ...(input.token !== undefined ? { token: input.token } : {}),
        ...(siteId ? { siteId, siteIdRaw: input.siteIdRaw } : {}),
        request: input.request,
      },
      ctx.auth,
    );
  } catch (err) {
    ctx.metrics.authFailuresTotal.inc();
    throw new ProtocolError('AUTH_FAILED', describeError(err), { cause: err });
  }
}

export async function openRequestSession(ctx: ServiceContext, input: RequestAuth): Promise<RequestSession> {
  const token = input.token !== undefined ? { token: input.token } : {};
  try {
    ctx.stores.validateDatabaseId(input.databaseId, token);
  } catch (err) {
    if (err instanceof InvalidDatabaseIdError && err.limit) ctx.metrics.limitRejectionsTotal.inc({ limit: err.limit });
    throw err;
  }
  const identity = await identify(ctx, input);
  await approveConnect(ctx, identity, undefined, input.databaseId);
  const connectionId = randomUUID();
  const storeCtx = { ...token, userId: identity.userId, metadata: identity.metadata };
  const store = await openSessionStore(ctx, input.databaseId, storeCtx, connectionId);
  return {
    connectionId,
    databaseId: input.databaseId,
    identity,
    transport: 'http',
    store,
    ...token,
    end: () => store.release(),
  };
}
