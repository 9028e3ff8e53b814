// Storage that fails (issue 10 item 9): whatever keeps a database from opening (a file-system
// error, shutdown) is STORAGE_UNAVAILABLE, non-fatal with close 1013 and HTTP 503, never the fatal
// AUTH_FAILED, and what the client reads names no server path; readyz is 503 while the data
// directory takes no write. Real files: the failure is a directory that is a regular file
// (ENOTDIR/EEXIST), which stops root too, where chmod would not.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId, newSiteId } from '@syncord/core';
import { expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

const RETRY_LATER = { code: 1013, reason: 'Try again later' };

async function handshake(srv: TestServer, databaseId: string) {
  const client = await TestClient.open(srv.ws);
  const reply = await client.handshake({ databaseId, siteId: encodeSiteId(newSiteId()) });
  return { client, reply };
}

const read = (srv: TestServer, databaseId: string) =>
  fetch(`${srv.http}/${databaseId}/changes`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });

it('a database whose file cannot be created gets STORAGE_UNAVAILABLE with no path, and opens once fixed', async () => {
  const srv = await startTestServer({
    storeHooks: { resolveStoragePath: (databaseId) => path.join('tenants', databaseId) },
  });
  const tenants = path.join(srv.dataDir, 'tenants');
  writeFileSync(tenants, 'not a directory');
  try {
    const refused = await handshake(srv, 'acme');
    expect(refused.reply).toMatchObject({ type: 'error', code: 'STORAGE_UNAVAILABLE', fatal: false });
    expect(String(refused.reply.message)).toMatch(/storage error E[A-Z]+/);
    expect(String(refused.reply.message)).not.toContain(srv.dataDir);
    expect(await refused.client.closed).toEqual(RETRY_LATER);

    const http = await read(srv, 'acme');
    expect(http.status).toBe(503);
    const body = await http.text();
    expect(JSON.parse(body)).toMatchObject({ ok: false, error: { code: 'STORAGE_UNAVAILABLE' } });
    expect(body).not.toContain(srv.dataDir);

    rmSync(tenants);
    mkdirSync(tenants);
    const accepted = await handshake(srv, 'acme');
    expect(accepted.reply.type).toBe('handshake_ack');
    expect((await read(srv, 'acme')).status).toBe(200);
    await accepted.client.close();
  } finally {
    await srv.stop();
  }
});

it('a handshake during shutdown gets STORAGE_UNAVAILABLE, not the fatal AUTH_FAILED', async () => {
  const srv = await startTestServer();
  const early = await TestClient.open(srv.ws);
  try {
    srv.server.service.beginShutdown();
    const reply = await early.handshake({ databaseId: 'db', siteId: encodeSiteId(newSiteId()) });
    expect(reply).toMatchObject({ type: 'error', code: 'STORAGE_UNAVAILABLE', fatal: false });
    expect(await early.closed).toEqual(RETRY_LATER);
  } finally {
    await srv.stop();
  }
});

it('readyz is 503 with the reason while the data directory takes no write; healthz stays 200', async () => {
  const srv = await startTestServer();
  const { dataDir, origin } = srv;
  try {
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, data: { s3: 'off' } });

    // The directory gives way to a regular file: no write can succeed there.
    renameSync(dataDir, `${dataDir}-away`);
    writeFileSync(dataDir, 'not a directory');
    try {
      const down = await fetch(`${origin}/readyz`);
      expect(down.status).toBe(503);
      const text = await down.text();
      expect(JSON.parse(text)).toEqual({
        ok: false,
        error: {
          code: 'NOT_READY',
          message: 'Not ready: data directory not writable (EEXIST)',
          reasons: ['data directory not writable (EEXIST)'],
        },
        data: { s3: 'off' },
      });
      expect(text).not.toContain(dataDir);
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    } finally {
      rmSync(dataDir);
      renameSync(`${dataDir}-away`, dataDir);
    }
    expect((await fetch(`${origin}/readyz`)).status).toBe(200);
  } finally {
    await srv.stop();
  }
});
