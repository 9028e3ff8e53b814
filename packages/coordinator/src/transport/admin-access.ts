// Who may use the admin page. With auth.mode none it is open (development); otherwise it needs
// admin.token, as a Bearer header or through the login form's cookie, and is off without one.
// The cookie holds an HMAC of the token under a key made at start, never the token itself, so a
// leaked cookie does not reveal it and every cookie dies with the process (or a token change).
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CoordinatorConfig } from '../config/types.js';
import { TokenWhitelist } from '../service/index.js';

export const ADMIN_COOKIE = 'syncord_admin';

export type AdminMode = 'open' | 'token' | 'off';

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
  /** The login cookie's value. */
  readonly cookieValue: string;
  // Compared as digests in constant time, as client tokens are.
  private readonly token: TokenWhitelist;
  private readonly cookie: TokenWhitelist;

  constructor(config: CoordinatorConfig) {
    const token = config.admin.token;
    this.mode = config.auth.mode === 'none' ? 'open' : token === '' ? 'off' : 'token';
    this.cookieValue = createHmac('sha256', randomBytes(32)).update(token, 'utf8').digest('base64url');
    this.token = new TokenWhitelist([token]);
    this.cookie = new TokenWhitelist([this.cookieValue]);
  }

  /** True for the admin token (false whenever the page is not token-protected). */
  tokenMatches(candidate: string): boolean {
    return this.mode === 'token' && this.token.has(candidate);
  }

  allows(request: FastifyRequest): boolean {
    if (this.mode === 'open') return true;
    if (this.mode === 'off') return false;
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && authorization.startsWith('Bearer '))
      return this.tokenMatches(authorization.slice('Bearer '.length));
    const cookie = cookieOf(request, ADMIN_COOKIE);
    return cookie !== undefined && this.cookie.has(cookie);
  }
}
