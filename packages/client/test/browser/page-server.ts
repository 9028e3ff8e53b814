// Serves the test page on 127.0.0.1 (port 0): an HTML shell and the page script bundled with
// esbuild from the sources (the same resolution the tests use), so no build is needed first.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** Resolves our packages to their sources, as vitest.config.ts does. */
const SOURCES: Plugin = {
  name: 'syncord-sources',
  setup(b) {
    const map: Record<string, string> = {
      '@syncord/core': src('../../../core/src/index.ts'),
      '@syncord/client/browser': src('../../src/browser.ts'),
    };
    b.onResolve({ filter: /^@syncord\// }, (args) => {
      const path = map[args.path];
      return path ? { path } : { errors: [{ text: `${args.path} is not available to the browser test page` }] };
    });
  },
};

export async function bundlePage(entry = src('./page.ts')): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    plugins: [SOURCES],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export interface PageServer {
  readonly url: string;
  close(): Promise<void>;
}

const TEST_HTML =
  '<!doctype html><meta charset="utf-8"><title>syncord test</title><link rel="icon" href="data:,"><script type="module" src="/page.js"></script>';

/** Serves `html` at / and `script` at every *.js path. */
export async function servePage(script: string, html = TEST_HTML): Promise<PageServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    else if (path.endsWith('.js')) res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
