// onAuthorize runs before every operation (PROTOCOL.md §6.7), told which database and transport,
// so one per-database rule holds on WebSocket and HTTP alike; a denial, a throw or a timeout all
// fail the operation with its own code (a denial is HTTP 403, a failing hook 500).
import { ProtocolError, type ErrorCode } from '@syncord/core';
import type { ServiceContext } from './context.js';
import { AccessDeniedError, describeError } from './errors.js';
import { callHook } from './hook-call.js';
import type { Session } from './session.js';
import type { AuthorizeContext, SyncOperation } from './types.js';

export async function authorize(
  ctx: ServiceContext,
  session: Session,
  op: SyncOperation,
  code: ErrorCode,
): Promise<void> {
  const hook = ctx.hooks.onAuthorize;
  if (!hook) return;
  let allowed: unknown;
  try {
    const where: AuthorizeContext = { databaseId: session.databaseId, transport: session.transport };
    allowed = await callHook('onAuthorize', ctx.hookTimeoutMs, () => hook(session.identity, op, where));
  } catch (err) {
    ctx.log.warn({ err, connectionId: session.connectionId, op: op.type }, 'onAuthorize failed');
    throw new ProtocolError(code, `Authorization failed: ${describeError(err)}`, { cause: err });
  }
  if (allowed !== true) throw new AccessDeniedError(code, 'Not authorized');
}
