// A static directory served on the coordinator's port (the example app's way of sharing one
// origin with /sync/ws): files and index.html are served with revalidation, while every
// coordinator route keeps answering itself and nothing outside the directory leaks.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCoordinatorServer, StaticDirError } from '@syncord/coordinator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, testConfig, type TestServer } from './support/test-server.js';

const INDEX = '<!doctype html><title>app</title>';

/** An app build, plus files named like coordinator routes and a secret next to it. */
function appDir(): string {
  const base = tempDir('syncord-static-');
  const root = path.join(base, 'app');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  mkdirSync(path.join(root, 'sync'));
  mkdirSync(path.join(root, '.hidden'));
  writeFileSync(path.join(root, 'index.html'), INDEX);
  writeFileSync(path.join(root, 'sw.js'), 'self.addEventListener("fetch", () => {});');
  writeFileSync(path.join(root, 'assets', 'app-1a2b.js'), 'console.log("app");');
  writeFileSync(path.join(root, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(root, 'sync', 'status'), 'a file shadowing the status route');
  writeFileSync(path.join(root, 'sync', 'notes.txt'), 'a file under the base path');
  writeFileSync(path.join(root, 'healthz'), 'a file shadowing healthz');
  writeFileSync(path.join(root, '.hidden', 'key'), 'HIDDEN-CONTENT');
  writeFileSync(path.join(base, 'secret.txt'), 'SECRET-CONTENT');
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
  return root;
}

describe('static directory beside the coordinator', () => {
  let srv: TestServer;
  let root: string;

  beforeAll(async () => {
    root = appDir();
    srv = await startTestServer({ staticDir: root });
  });
  afterAll(async () => srv?.stop());

  it('serves index.html at / and files by path, typed, revalidated with an ETag', async () => {
    const page = await fetch(`${srv.origin}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toBe(INDEX);

    const script = await fetch(`${srv.origin}/assets/app-1a2b.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log("app");');
    expect((await fetch(`${srv.origin}/assets/logo.svg`)).headers.get('content-type')).toBe('image/svg+xml');

    const etag = script.headers.get('etag');
    expect(etag).toMatch(/^W\/"/);
    const again = await fetch(`${srv.origin}/assets/app-1a2b.js`, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);

    const head = await fetch(`${srv.origin}/sw.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('leaves the coordinator routes and everything under basePath to the coordinator', async () => {
    const health = await fetch(`${srv.origin}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    const status = await fetch(`${srv.http}/status`);
    expect(((await status.json()) as { ok: boolean }).ok).toBe(true);
    // A file under the base path is never looked up, so the sync API's 404 stays its own.
    const underBase = await fetch(`${srv.http}/notes.txt`);
    expect(underBase.status).toBe(404);
    expect(await underBase.text()).not.toContain('a file under the base path');
    const upgrade = await fetch(`${srv.http}/ws`);
    expect(upgrade.status).not.toBe(200);
  });

  it('answers 404 for missing files, dot paths, traversal and symlinks out of the directory', async () => {
    for (const p of [
      '/missing.js',
      '/.hidden/key',
      '/assets/..%2f..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/assets/link.txt',
    ]) {
      const res = await fetch(`${srv.origin}${p}`);
      expect(res.status, p).toBe(404);
      expect(await res.text(), p).not.toMatch(/HIDDEN-CONTENT|SECRET-CONTENT/);
    }
  });

  it('refuses to start on a static directory that is not one', async () => {
    const cases: [string, RegExp][] = [
      [path.join(root, 'index.html'), /is not a directory/],
      [path.join(root, 'nope'), /cannot be read/],
    ];
    for (const [staticDir, message] of cases) {
      const server = createCoordinatorServer({ config: testConfig(tempDir()), staticDir });
      const failure = await server.start().catch((error: unknown) => error);
      await server.stop();
      expect(failure).toBeInstanceOf(StaticDirError);
      expect((failure as Error).message).toMatch(message);
      expect(server.address()).toBeUndefined();
    }
  });
});
