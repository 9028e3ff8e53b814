// onClientConnect, the per-database admission rule, on both transports: once per WebSocket
// handshake (with its socket) and once per HTTP request (socket undefined), before the database
// is opened, so a refused client never creates, opens or touches it.
import { AccessDeniedError, describeError } from './errors.js';
import type { ServiceContext } from './context.js';
import { callHook } from './hook-call.js';
import type { ClientIdentity } from './types.js';

/** Throws AccessDeniedError (AUTH_FAILED on WebSocket, 403 on HTTP) unless the hook admits the client. */
export async function approveConnect(
  ctx: ServiceContext,
  identity: ClientIdentity,
  socket: unknown,
  databaseId: string,
): Promise<void> {
  const hook = ctx.hooks.onClientConnect;
  if (!hook) return;
  let accepted: unknown;
  try {
    accepted = await callHook('onClientConnect', ctx.hookTimeoutMs, () => hook(identity, socket, databaseId));
  } catch (err) {
    throw new AccessDeniedError('AUTH_FAILED', `Connection rejected: ${describeError(err)}`, { cause: err });
  }
  if (accepted === false) throw new AccessDeniedError('AUTH_FAILED', 'Connection rejected');
}
