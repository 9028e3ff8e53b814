// Authentication modes of PROTOCOL.md §6.7. Whitelisted tokens are compared as SHA-256 digests
// with timingSafeEqual, and every entry is compared, so timing says nothing about the token.
import { createHash, timingSafeEqual } from 'node:crypto';
import { SITE_ID_BYTES } from '@syncord/core';
import type { AuthMode } from '../config/types.js';
import { callHook } from './hook-call.js';
import type { AuthContext, ClientIdentity, CoordinatorHooks } from './types.js';

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenWhitelist {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(token: string): boolean {
    const candidate = digest(token);
    let found = false;
    for (const known of this.digests) found = timingSafeEqual(candidate, known) || found;
    return found;
  }
}

/** A message that explains the refusal; the transport sends it with AUTH_FAILED. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

export interface AuthSettings {
  readonly mode: AuthMode;
  readonly whitelist: TokenWhitelist;
  readonly hooks: CoordinatorHooks;
  readonly hookTimeoutMs: number;
}

function checkIdentity(value: unknown): ClientIdentity {
  const identity = value as Partial<ClientIdentity> | null;
  if (
    typeof identity !== 'object' ||
    identity === null ||
    !(identity.siteId instanceof Uint8Array) ||
    identity.siteId.length !== SITE_ID_BYTES
  ) {
    throw new AuthenticationError(`onAuthenticate must return an identity with a ${SITE_ID_BYTES}-byte siteId`);
  }
  return identity as ClientIdentity;
}

/** The client's identity, or an error whose message says why not. */
export async function authenticate(ctx: AuthContext, settings: AuthSettings): Promise<ClientIdentity> {
  if (settings.mode === 'token-whitelist') {
    if (ctx.token === undefined || ctx.token === '') throw new AuthenticationError('Authentication required');
    if (!settings.whitelist.has(ctx.token)) throw new AuthenticationError('Invalid token');
  }
  const hook = settings.hooks.onAuthenticate;
  if (hook) return checkIdentity(await callHook('onAuthenticate', settings.hookTimeoutMs, () => hook(ctx)));
  if (!ctx.siteId) throw new AuthenticationError('Site ID required');
  return { siteId: ctx.siteId };
}
