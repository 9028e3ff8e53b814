// The HTTP surface of PROTOCOL.md §4 plus healthz/readyz: envelopes, statuses, auth inputs,
// limits, and the request metrics.
import { encodeHLC, encodeSiteId, newSiteId } from '@syncord/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';

let srv: TestServer;
const site = newSiteId();
const siteHeader = { 'x-site-id': encodeSiteId(site) };

beforeAll(async () => {
  srv = await startTestServer({
    config: { limits: { maxBodyBytes: 64 * 1024, maxChangeSetsPerApply: 2 } },
    hooks: { onAuthorize: (client) => client.userId !== 'blocked' },
  });
});
afterAll(() => srv.stop());

function post(databaseId: string, body: unknown, headers: Record<string, string> = siteHeader): Promise<Response> {
  return fetch(`${srv.http}/${databaseId}/changes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function readAll(databaseId: string): Promise<unknown[]> {
  const res = await fetch(`${srv.http}/${databaseId}/changes`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: { changes: unknown[] } }).data.changes;
}

describe('HTTP changes', () => {
  it('applies a POST and serves it to other sites with GET, in the envelope', async () => {
    const cs = wire(writeRow(site, 'notes', [1], { title: 'hi', n: 5n }));
    const res = await post('acme:notes', { changes: [cs] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, data: { applied: 2, skipped: 0, conflicts: 0, transactions: 1 } });
    expect(await readAll('acme:notes')).toEqual([cs]);
    const own = await fetch(`${srv.http}/acme:notes/changes`, { headers: siteHeader });
    expect(await own.json()).toEqual({ ok: true, data: { changes: [] } });
  });

  it('takes sinceHLC percent-encoded or with a raw +, and answers a bad one with 400', async () => {
    const reader = { 'x-site-id': encodeSiteId(newSiteId()) };
    // A watermark whose base64 holds a '+'.
    const wallTime = BigInt(Date.now() + 1000);
    let counter = 0;
    while (!encodeHLC({ wallTime, counter, siteId: site, opSeq: 0 }).includes('+')) counter++;
    const since = encodeHLC({ wallTime, counter, siteId: site, opSeq: 0 });
    const fetchSince = async (q: string) => {
      const res = await fetch(`${srv.http}/acme:notes/changes?sinceHLC=${q}`, { headers: reader });
      expect(res.status).toBe(200);
      return ((await res.json()) as { data: { changes: unknown[] } }).data.changes;
    };
    // Both spellings name the same watermark, so they get the same answer.
    const encoded = await fetchSince(encodeURIComponent(since));
    expect(await fetchSince(since)).toEqual(encoded);
    const bad = await fetch(`${srv.http}/acme:notes/changes?sinceHLC=nope`, { headers: reader });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'GET_CHANGES_FAILED' } });
  });

  it('checks databaseId (400) before authentication (401)', async () => {
    const bad = await fetch(`${srv.http}/bad%20id/changes`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: { code: 'INVALID_DATABASE_ID' } });
    for (const headers of [{}, { 'x-site-id': 'nope' }] as Record<string, string>[]) {
      const res = await fetch(`${srv.http}/db/changes`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    }
  });

  it('answers malformed bodies with 400 INVALID_BODY and stores nothing', async () => {
    const good = wire(writeRow(site, 't', [1], { v: 1 })) as Record<string, unknown>;
    const bodies: unknown[] = [
      '{"changes": [',
      '[]',
      { nope: 1 },
      { changes: 'x' },
      { changes: [{ ...good, hlc: 'short' }] },
      { changes: [good, { ...good, siteId: encodeSiteId(newSiteId()) }] },
    ];
    for (const body of bodies) {
      const res = await post('malformed', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await res.json()).toMatchObject({ ok: false, error: { code: 'INVALID_BODY' } });
    }
    expect(await readAll('malformed')).toEqual([]);
  });

  it('answers limits with 413 and names them, storing nothing', async () => {
    const huge = await post('limits', { changes: [], pad: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ ok: false, error: { code: 'INVALID_BODY' } });
    const many = await post('limits', {
      changes: [1, 2, 3].map((i) => wire(writeRow(site, 't', [i], { v: i }, { counter: i }))),
    });
    expect(many.status).toBe(413);
    expect(await many.json()).toMatchObject({
      ok: false,
      error: { code: 'APPLY_CHANGES_FAILED', message: expect.stringMatching(/maxChangeSetsPerApply/) },
    });
    expect(await readAll('limits')).toEqual([]);
  });

  it('rejects a write from the future (drift gate) and stores nothing', async () => {
    const res = await post('drift', {
      changes: [wire(writeRow(site, 't', [1], { v: 1 }, { wall: BigInt(Date.now() + 3_600_000) }))],
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ ok: false, error: { code: 'APPLY_CHANGES_FAILED', message: /drift/i } });
    expect(await readAll('drift')).toEqual([]);
  });
});

describe('status, metrics, health', () => {
  it('reports status in the envelope', async () => {
    const res = await fetch(`${srv.http}/status`);
    const body = (await res.json()) as { ok: boolean; data: Record<string, number> };
    expect(body.ok).toBe(true);
    expect(Object.keys(body.data).sort()).toEqual(['connectedClients', 'openStores', 'uptime']);
    expect(body.data.openStores).toBeGreaterThan(0);
  });

  it('serves Prometheus text with every request counted by route, method and status', async () => {
    await fetch(`${srv.http}/status`);
    const res = await fetch(`${srv.http}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toMatch(/sync_http_requests_total\{route="\/sync\/status",method="GET",status="200"\} [1-9]/);
    expect(text).toMatch(
      /sync_http_requests_total\{route="\/sync\/:databaseId\/changes",method="POST",status="400"\} [1-9]/,
    );
    expect(text).toMatch(/sync_changes_applied_total [1-9]/);
    expect(text).toMatch(/sync_limit_rejections_total\{limit="maxBodyBytes"\} 1/);
    expect(text).toMatch(/sync_limit_rejections_total\{limit="maxChangeSetsPerApply"\} 1/);
    expect(text).toMatch(/sync_http_request_duration_seconds_count\{route="\/sync\/status"\} [1-9]/);
    expect(text).toMatch(/sync_errors_total\{code="INVALID_BODY"\} [1-9]/);
    expect(text).toMatch(/process_cpu_user_seconds_total/);
  });

  it('answers CORS requests per config.cors', async () => {
    const res = await fetch(`${srv.http}/status`, { headers: { origin: 'http://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('is live and ready while running', async () => {
    expect((await fetch(`${srv.origin}/healthz`)).status).toBe(200);
    const ready = await fetch(`${srv.origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, data: { s3: 'off' } });
  });
});

describe('HTTP auth', () => {
  it('takes the token from Authorization with or without Bearer, and X-Site-Id as the identity', async () => {
    const locked = await startTestServer({
      config: { auth: { mode: 'token-whitelist', tokens: ['t1', 'Bearer-ish'] } },
    });
    try {
      const get = (headers: Record<string, string>) =>
        fetch(`${locked.http}/db/changes`, { headers: { ...siteHeader, ...headers } });
      expect((await get({ authorization: 'Bearer t1' })).status).toBe(200);
      expect((await get({ authorization: 't1' })).status).toBe(200);
      expect((await get({ authorization: 'Bearer-ish' })).status).toBe(200);
      for (const headers of [{}, { authorization: 'Bearer t2' }, { authorization: 'Bearer ' }] as Record<
        string,
        string
      >[]) {
        const res = await get(headers);
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
      }
    } finally {
      await locked.stop();
    }
  });

  it('runs onAuthorize on every request; a denial is the operation’s failure with 403', async () => {
    const custom = await startTestServer({
      hooks: {
        onAuthenticate: (ctx) => ({ siteId: ctx.siteId ?? newSiteId(), userId: ctx.token ?? 'anon' }),
        onAuthorize: (client, op) => !(client.userId === 'reader' && op.type === 'apply_changes'),
      },
    });
    try {
      const headers = { authorization: 'Bearer reader' };
      expect((await fetch(`${custom.http}/db/changes`, { headers })).status).toBe(200);
      const denied = await fetch(`${custom.http}/db/changes`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ changes: [wire(writeRow(site, 't', [1], { v: 1 }))] }),
      });
      expect(denied.status).toBe(403);
      expect(await denied.json()).toEqual({
        ok: false,
        error: { code: 'APPLY_CHANGES_FAILED', message: 'Not authorized' },
      });
    } finally {
      await custom.stop();
    }
  });
});
