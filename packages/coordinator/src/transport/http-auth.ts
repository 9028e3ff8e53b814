// Auth inputs of the HTTP routes (PROTOCOL.md §4): `Authorization` (a leading "Bearer " is
// stripped, otherwise the whole value is the token) and `X-Site-Id`.
import type { FastifyRequest } from 'fastify';
import type { RequestAuth } from '../service/index.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The `Authorization` header with a leading "Bearer " stripped; undefined when absent. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const authorization = header(request, 'authorization');
  return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : authorization;
}

export function requestAuth(request: FastifyRequest, databaseId: string): RequestAuth {
  const token = bearerToken(request);
  const siteIdRaw = header(request, 'x-site-id');
  return {
    databaseId,
    ...(token !== undefined && token !== '' ? { token } : {}),
    ...(siteIdRaw !== undefined ? { siteIdRaw } : {}),
    request,
  };
}
