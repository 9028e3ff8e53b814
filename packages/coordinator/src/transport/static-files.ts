// Serves a directory of files (a built web app) from the coordinator's own port, so an app and
// its sync endpoint share one origin. It only fills the gaps: every route the coordinator
// registers wins over its catch-all, and nothing under basePath is ever looked up on disk.
import { createReadStream, statSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.wasm': 'application/wasm',
};

export class StaticDirError extends Error {
  override readonly name = 'StaticDirError';
}

/** Resolves `dir` and checks it is a directory now, so a typo fails at start, not on the first request. */
function checkedRoot(dir: string): string {
  const root = path.resolve(dir);
  let info: Stats;
  try {
    info = statSync(root);
  } catch (error) {
    throw new StaticDirError(`static directory ${root} cannot be read: ${(error as Error).message}`);
  }
  if (!info.isDirectory()) throw new StaticDirError(`static directory ${root} is not a directory`);
  return root;
}

/** The file a URL path names inside root (index.html for a directory), or undefined. */
async function findFile(root: string, urlPath: string): Promise<{ file: string; info: Stats } | undefined> {
  const segments = urlPath.split('/').filter((s) => s !== '');
  // Dot segments are traversal or hidden files (.git, .env): neither is part of an app.
  if (segments.some((s) => s.startsWith('.') || s.includes('\0') || s.includes('\\'))) return undefined;
  let file = path.join(root, ...segments);
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile()) return undefined;
    // A symlink may point anywhere: serve only what really lies inside root.
    const real = await realpath(file);
    const realRoot = await realpath(root);
    if (!real.startsWith(realRoot + path.sep)) return undefined;
    return { file, info };
  } catch {
    return undefined;
  }
}

/**
 * GET (and HEAD) of any path no other route takes: the file under `dir`, with `no-cache` and an
 * ETag so a browser (or a service worker) revalidates and picks up a new build at once. Paths under
 * `basePath` (when it is not the root) are never served from disk, so the sync API's 404s stay its own.
 */
export function registerStaticFiles(app: FastifyInstance, dir: string, basePath: string): void {
  const root = checkedRoot(dir);
  const reserved = (urlPath: string): boolean =>
    basePath !== '' && (urlPath === basePath || urlPath.startsWith(`${basePath}/`));

  app.get('/*', async (request: FastifyRequest, reply: FastifyReply) => {
    // The router has already percent-decoded the wildcard part.
    const urlPath = `/${(request.params as { '*'?: string })['*'] ?? ''}`;
    const found = reserved(urlPath) ? undefined : await findFile(root, urlPath);
    if (!found) return reply.callNotFound();
    const { file, info } = found;
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    reply.header('cache-control', 'no-cache').header('etag', etag);
    reply.type(CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    reply.header('content-length', info.size);
    return reply.send(createReadStream(file));
  });
}
