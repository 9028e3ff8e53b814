// Issue 10 item 10: one per-database access rule holds on both transports. onClientConnect runs for
// every HTTP request as for a WebSocket handshake, and onAuthorize is told the database and the
// transport; a refused HTTP request is a 403 and nothing is stored or even opened.
import { readdirSync } from 'node:fs';
import { encodeSiteId, newSiteId, type SiteId } from '@syncord/core';
import type { AuthorizeContext, ClientIdentity, CoordinatorHooks } from '@syncord/coordinator';
import { describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { perTestServers } from './support/per-test-servers.js';
import { TestClient } from './support/ws-client.js';

/** The rule: user u may only touch database d-u, user v only d-v. */
const HOME: Record<string, string> = { u: 'd-u', v: 'd-v' };
const SITES: Record<string, SiteId> = { u: newSiteId(), v: newSiteId() };
const mayUse = (client: ClientIdentity, databaseId: string): boolean => HOME[client.userId ?? ''] === databaseId;

let srv: TestServer | undefined;
const { clients, adopt } = perTestServers();

async function serve(hooks: CoordinatorHooks): Promise<TestServer> {
  srv = adopt(
    await startTestServer({
      config: { auth: { mode: 'custom' } },
      hooks: { onAuthenticate: (ctx) => ({ siteId: SITES[ctx.token ?? '']!, userId: ctx.token }), ...hooks },
    }),
  );
  return srv;
}

function request(user: string, databaseId: string, what: 'get' | 'post' | 'snapshot'): Promise<Response> {
  const headers = { authorization: `Bearer ${user}`, 'content-type': 'application/json' };
  if (what === 'snapshot') return fetch(`${srv!.http}/${databaseId}/snapshot`, { headers });
  if (what === 'get') return fetch(`${srv!.http}/${databaseId}/changes`, { headers });
  const changes = [wire(writeRow(SITES[user]!, 'notes', [1], { title: `by ${user}` }))];
  return fetch(`${srv!.http}/${databaseId}/changes`, { method: 'POST', headers, body: JSON.stringify({ changes }) });
}

const OPERATIONS = [
  ['get', 'GET_CHANGES_FAILED'],
  ['post', 'APPLY_CHANGES_FAILED'],
  ['snapshot', 'SNAPSHOT_FAILED'],
] as const;

async function expectRefusedOverHttp(user: string, databaseId: string, message: string): Promise<void> {
  for (const [what, code] of OPERATIONS) {
    const res = await request(user, databaseId, what);
    expect(res.status, what).toBe(403);
    expect(await res.json()).toEqual({ ok: false, error: { code, message } });
  }
}

async function expectServedOverHttp(user: string, databaseId: string): Promise<void> {
  for (const [what] of OPERATIONS) expect((await request(user, databaseId, what)).status, what).toBe(200);
}

async function changesOf(databaseId: string): Promise<unknown[]> {
  const res = await request('v', databaseId, 'get');
  return ((await res.json()) as { data: { changes: unknown[] } }).data.changes;
}

async function open(user: string, databaseId: string): Promise<{ c: TestClient; reply: Record<string, unknown> }> {
  const c = await TestClient.open(srv!.ws);
  clients.push(c);
  const reply = await c.handshake({ databaseId, siteId: encodeSiteId(SITES[user]!), token: user });
  return { c, reply };
}

describe('onClientConnect as the per-database rule', () => {
  it('refuses another database over HTTP with 403 before the database is opened, and over WebSocket', async () => {
    const sockets: unknown[] = [];
    const server = await serve({
      onClientConnect: (client, socket, databaseId) => {
        sockets.push(socket);
        return mayUse(client, databaseId);
      },
    });
    await expectServedOverHttp('u', 'd-u');
    await expectRefusedOverHttp('u', 'd-v', 'Connection rejected');
    // Never opened, so never created: no file for d-v, no reference.
    const files = readdirSync(server.dataDir);
    expect(files.some((f) => f.startsWith('d-u'))).toBe(true);
    expect(files.filter((f) => f.startsWith('d-v'))).toEqual([]);
    expect(server.server.service.stores.refCount('d-v')).toBe(0);
    expect(sockets.every((s) => s === undefined)).toBe(true);

    const { c, reply } = await open('u', 'd-v');
    expect(reply).toMatchObject({ type: 'error', code: 'AUTH_FAILED', message: 'Connection rejected' });
    expect(await c.closed).toEqual({ code: 4001, reason: 'Authentication failed' });
    expect((await open('u', 'd-u')).reply.type).toBe('handshake_ack');
    expect(sockets.at(-1)).toBeDefined();
    expect(await changesOf('d-v')).toEqual([]);
  });
});

describe('onAuthorize told the database', () => {
  it('holds the same rule on HTTP (403) and WebSocket (the operation’s error), storing nothing', async () => {
    const seen: AuthorizeContext[] = [];
    await serve({
      onAuthorize: (client, _op, ctx) => {
        seen.push(ctx);
        return mayUse(client, ctx.databaseId);
      },
    });
    await expectServedOverHttp('u', 'd-u');
    await expectRefusedOverHttp('u', 'd-v', 'Not authorized');

    const { c } = await open('u', 'd-v');
    c.send({ type: 'get_changes' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'GET_CHANGES_ERROR', message: 'Not authorized' });
    c.send({
      type: 'apply_changes',
      requestId: 'apply-1',
      changes: [wire(writeRow(SITES['u']!, 'notes', [2], { x: 1 }))],
    });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'APPLY_CHANGES_ERROR', requestId: 'apply-1' });
    c.send({ type: 'get_snapshot' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'SNAPSHOT_ERROR', message: 'Not authorized' });

    seen.length = 0;
    expect(await changesOf('d-v')).toEqual([]);
    expect(seen).toEqual([{ databaseId: 'd-v', transport: 'http' }]);
    const own = await open('u', 'd-u');
    own.c.send({ type: 'get_changes' });
    expect(await own.c.next('changes')).toBeDefined();
    expect(seen.at(-1)).toEqual({ databaseId: 'd-u', transport: 'websocket' });
  });
});
