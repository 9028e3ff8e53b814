// onAuthorize runs before every operation (PROTOCOL.md §6.7); a denial, a throw or a timeout all
// fail the operation with its own code.
import { ProtocolError, type ErrorCode } from '@syncord/core';
import type { ServiceContext } from './context.js';
import { describeError } from './errors.js';
import { callHook } from './hook-call.js';
import type { Session } from './session.js';
import type { SyncOperation } from './types.js';

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
    allowed = await callHook('onAuthorize', ctx.hookTimeoutMs, () => hook(session.identity, op));
  } catch (err) {
    ctx.log.warn({ err, connectionId: session.connectionId, op: op.type }, 'onAuthorize failed');
    throw new ProtocolError(code, `Authorization failed: ${describeError(err)}`, { cause: err });
  }
  if (allowed !== true) throw new ProtocolError(code, 'Not authorized');
}
