// Auth inputs of the HTTP routes (PROTOCOL.md §4): `Authorization` (a leading "Bearer " is
// stripped, otherwise the whole value is the token) and `X-Site-Id`.
import type { FastifyRequest } from 'fastify';
import type { RequestAuth } from '../service/index.js';

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function requestAuth(request: FastifyRequest, databaseId: string): RequestAuth {
  const authorization = header(request, 'authorization');
  const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : authorization;
  const siteIdRaw = header(request, 'x-site-id');
  return {
    databaseId,
    ...(token !== undefined && token !== '' ? { token } : {}),
    ...(siteIdRaw !== undefined ? { siteIdRaw } : {}),
    request,
  };
}
