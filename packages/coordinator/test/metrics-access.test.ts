// Issue 10 item 11: `/sync/metrics` names no tenant unless metrics.perDatabaseLabels opts in, and
// once auth is on it needs metrics.token (closed with 403 and how to open it when none is set).
import { encodeSiteId, newSiteId } from '@syncord/core';
import { describe, expect, it } from 'vitest';
import { startTestServer, type ConfigOverrides, type TestServer } from './support/test-server.js';
import { perTestServers } from './support/per-test-servers.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer | undefined;
const { clients, adopt } = perTestServers();

async function serve(config: ConfigOverrides): Promise<TestServer> {
  srv = adopt(await startTestServer({ config }));
  return srv;
}

function scrape(authorization?: string): Promise<Response> {
  return fetch(`${srv!.http}/metrics`, authorization === undefined ? {} : { headers: { authorization } });
}

/** A WebSocket session on `databaseId`, so the per-database gauge has something to show. */
async function session(databaseId: string, token?: string): Promise<void> {
  const c = await TestClient.open(srv!.ws);
  clients.push(c);
  const ack = await c.handshake({ databaseId, siteId: encodeSiteId(newSiteId()), ...(token ? { token } : {}) });
  expect(ack.type).toBe('handshake_ack');
}

describe('per-database labels', () => {
  it('are off by default: every database is counted as _other and no id appears', async () => {
    await serve({});
    await session('tenant-acme');
    await session('tenant-globex');
    const text = await (await scrape()).text();
    expect(text).not.toMatch(/tenant-/);
    expect(text).toContain('sync_database_sessions{database="_other"} 2\n');
  });

  it('name the databases with metrics.perDatabaseLabels', async () => {
    await serve({ metrics: { perDatabaseLabels: true } });
    await session('tenant-acme');
    const text = await (await scrape()).text();
    expect(text).toContain('sync_database_sessions{database="tenant-acme"} 1\n');
  });
});

describe('the metrics token', () => {
  it('closes the route with 403 and says how to open it when auth is on and no token is set', async () => {
    await serve({ auth: { mode: 'token-whitelist', tokens: ['client-token'] } });
    for (const authorization of [undefined, 'Bearer client-token']) {
      const res = await scrape(authorization);
      expect(res.status).toBe(403);
      const body = (await res.json()) as { ok: boolean; error: { code: string; message: string } };
      expect(body.ok).toBe(false);
      expect(body.error.code).toBe('METRICS_TOKEN_NOT_SET');
      expect(body.error.message).toMatch(/metrics\.token.*SYNC_METRICS_TOKEN.*--metrics-token/);
    }
  });

  it('is required when set: 401 without it or with another token, the metrics with it', async () => {
    await serve({ auth: { mode: 'custom' }, metrics: { token: 'scrape-me' } });
    for (const authorization of [undefined, 'Bearer nope', 'Bearer scrape-me-too', 'scrape-m']) {
      const res = await scrape(authorization);
      expect(res.status, authorization).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    }
    const res = await scrape('Bearer scrape-me');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('# TYPE sync_websocket_connections_total counter');
  });

  it('is required when set even with auth.mode none; without one the route stays open', async () => {
    await serve({ metrics: { token: 'scrape-me' } });
    expect((await scrape()).status).toBe(401);
    expect((await scrape('Bearer scrape-me')).status).toBe(200);
    await srv!.stop();
    srv = undefined;
    await serve({});
    expect((await scrape()).status).toBe(200);
  });
});
