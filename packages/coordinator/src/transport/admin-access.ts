// Who may use the admin page. With auth.mode none it is open (development); otherwise it needs
// admin.token, as a Bearer header or through the login form's cookie, and is off without one.
// The cookie holds an HMAC of the token under a key made at start, never the token itself, so a
// leaked cookie does not reveal it and every cookie dies with the process (or a token change).
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CoordinatorConfig } from '../config/types.js';

export const ADMIN_COOKIE = 'syncord_admin';

export type AdminMode = 'open' | 'token' | 'off';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Equal in time independent of where they differ (both sides hashed to one length first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class AdminGate {
  readonly mode: AdminMode;
  private readonly token: string;
  private readonly key = randomBytes(32);

  constructor(config: CoordinatorConfig) {
    this.token = config.admin.token;
    this.mode = config.auth.mode === 'none' ? 'open' : this.token === '' ? 'off' : 'token';
  }

  /** True for the admin token (false whenever the page is not token-protected). */
  tokenMatches(candidate: string): boolean {
    return this.mode === 'token' && sameSecret(candidate, this.token);
  }

  /** The login cookie's value. */
  cookieValue(): string {
    return createHmac('sha256', this.key).update(this.token, 'utf8').digest('base64url');
  }

  allows(request: FastifyRequest): boolean {
    if (this.mode === 'open') return true;
    if (this.mode === 'off') return false;
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && authorization.startsWith('Bearer '))
      return this.tokenMatches(authorization.slice('Bearer '.length));
    const cookie = cookieOf(request, ADMIN_COOKIE);
    return cookie !== undefined && sameSecret(cookie, this.cookieValue());
  }
}
