// Auth modes and hooks of PROTOCOL.md §6.7 over real sockets, including hooks that throw or hang:
// none of them crashes the server or leaks a session or a store reference.
import { encodeSiteId, newSiteId, type SiteId } from '@syncord/core';
import type { ClientIdentity, CoordinatorHooks } from '@syncord/coordinator';
import { afterEach, describe, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type ConfigOverrides, type TestServer } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

const running: TestServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

async function serve(hooks: CoordinatorHooks = {}, config: ConfigOverrides = {}): Promise<TestServer> {
  const srv = await startTestServer({ hooks, config, hookTimeoutMs: 150 });
  running.push(srv);
  return srv;
}

async function connect(
  srv: TestServer,
  fields: Record<string, unknown>,
): Promise<{ c: TestClient; reply: ServerJson }> {
  const c = await TestClient.open(srv.ws);
  clients.push(c);
  const reply = await c.handshake(fields);
  return { c, reply };
}

const siteField = (site: SiteId = newSiteId()) => encodeSiteId(site);
const never = () => new Promise<never>(() => {});

async function expectAuthFailed(c: TestClient, reply: ServerJson, message: string | RegExp): Promise<void> {
  expect(reply).toMatchObject({ type: 'error', code: 'AUTH_FAILED', fatal: true });
  expect(reply.message).toMatch(message);
  expect(await c.closed).toEqual({ code: 4001, reason: 'Authentication failed' });
}

describe('auth modes', () => {
  it('token-whitelist demands a listed token', async () => {
    const srv = await serve(
      {},
      { auth: { mode: 'token-whitelist', tokens: ['secret1', 'secret2'] }, metrics: { token: 'scrape' } },
    );
    const none = await connect(srv, { databaseId: 'db', siteId: siteField() });
    await expectAuthFailed(none.c, none.reply, 'Authentication required');
    const wrong = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'secret3' });
    await expectAuthFailed(wrong.c, wrong.reply, 'Invalid token');
    const prefix = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'secret' });
    await expectAuthFailed(prefix.c, prefix.reply, 'Invalid token');
    const ok = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'secret2' });
    expect(ok.reply.type).toBe('handshake_ack');
    const metrics = await (await fetch(`${srv.http}/metrics`, { headers: { authorization: 'Bearer scrape' } })).text();
    expect(metrics).toMatch(/sync_auth_attempts_total 4/);
    expect(metrics).toMatch(/sync_auth_failures_total 3/);
  });

  it('custom: the identity from onAuthenticate drives the echo filter and the broadcast exclusion', async () => {
    const users = new Map<string, SiteId>([
      ['alice', newSiteId()],
      ['bob', newSiteId()],
    ]);
    const srv = await serve(
      {
        onAuthenticate: (ctx): ClientIdentity => {
          const siteId = users.get(ctx.token ?? '');
          if (!siteId) throw new Error('unknown user');
          return { siteId, userId: ctx.token };
        },
      },
      { auth: { mode: 'custom' } },
    );
    // Each claims a random site id; the hook's identity wins.
    const alice1 = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'alice' });
    const alice2 = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'alice' });
    const bob = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'bob' });
    const mallory = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'mallory' });
    await expectAuthFailed(mallory.c, mallory.reply, 'unknown user');

    const cs = wire(writeRow(users.get('alice')!, 't', [1], { v: 1 }));
    alice1.c.send({ type: 'apply_changes', changes: [cs] });
    await alice1.c.next('apply_result');
    expect((await bob.c.next('push_changes')).changeSets).toEqual([cs]);
    expect(await alice2.c.drain()).toEqual([]);
    alice2.c.send({ type: 'get_changes' });
    expect((await alice2.c.next('changes')).changeSets).toEqual([]);
    bob.c.send({ type: 'get_changes' });
    expect((await bob.c.next('changes')).changeSets).toEqual([cs]);
  });
});

describe('hooks', () => {
  it('onClientConnect false rejects the connection and keeps no store reference', async () => {
    const srv = await serve({ onClientConnect: (_client, _socket, databaseId) => databaseId !== 'closed-db' });
    const { c, reply } = await connect(srv, { databaseId: 'closed-db', siteId: siteField() });
    await expectAuthFailed(c, reply, 'Connection rejected');
    expect(srv.server.service.stores.refCount('closed-db')).toBe(0);
    expect(srv.server.service.status().connectedClients).toBe(0);
  });

  it('onBeforeApplyChanges approves some sets: the rest are reported and not applied', async () => {
    const srv = await serve({
      onBeforeApplyChanges: (_client, changes) => ({
        approved: changes.filter((cs) => cs.changes.every((c) => c.type !== 'column' || c.value !== 'spam')),
        rejected: changes
          .filter((cs) => cs.changes.some((c) => c.type === 'column' && c.value === 'spam'))
          .map((change) => ({ change, reason: 'no spam', code: 'VALIDATION', table: 't', column: 'v' })),
      }),
    });
    const site = newSiteId();
    const { c } = await connect(srv, { databaseId: 'db', siteId: siteField(site) });
    const good = wire(writeRow(site, 't', [1], { v: 'ham' }, { counter: 1 }));
    const bad = wire(writeRow(site, 't', [2], { v: 'spam' }, { counter: 2 }));
    c.send({ type: 'apply_changes', requestId: 'apply-1', changes: [good, bad] });
    expect(await c.next()).toEqual({
      type: 'apply_result',
      requestId: 'apply-1',
      applied: 1,
      skipped: 0,
      conflicts: 0,
      transactions: 1,
      rejected: [{ reason: 'no spam', code: 'VALIDATION' }],
    });
    c.send({ type: 'apply_changes', requestId: 'apply-2', changes: [bad] });
    expect(await c.next()).toMatchObject({ applied: 0, transactions: 0, rejected: [{ reason: 'no spam' }] });
    const reader = await connect(srv, { databaseId: 'db', siteId: siteField() });
    reader.c.send({ type: 'get_changes' });
    expect((await reader.c.next('changes')).changeSets).toEqual([good]);
  });

  it('a throwing hook fails its own operation with its own code and nothing else', async () => {
    let afterCalls = 0;
    let disconnects = 0;
    const srv = await serve({
      onAuthorize: (_client, op) => {
        if (op.type === 'get_snapshot') throw new Error('policy store down');
        return op.type !== 'resume_snapshot';
      },
      onBeforeApplyChanges: (_client, changes) => {
        if (changes.length > 1) throw new Error('validator crashed');
        return { approved: changes, rejected: [] };
      },
      onAfterApplyChanges: () => {
        afterCalls++;
        throw new Error('audit log down');
      },
      onClientDisconnect: () => {
        disconnects++;
        throw new Error('presence service down');
      },
    });
    const site = newSiteId();
    const { c } = await connect(srv, { databaseId: 'db', siteId: siteField(site) });
    c.send({ type: 'get_snapshot' });
    expect(await c.next()).toMatchObject({
      type: 'error',
      code: 'SNAPSHOT_ERROR',
      fatal: false,
      message: /policy store down/,
    });
    c.send({ type: 'resume_snapshot', checkpoint: {} });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'SNAPSHOT_ERROR' });
    const two = [1, 2].map((i) => wire(writeRow(site, 't', [i], { v: i }, { counter: i })));
    c.send({ type: 'apply_changes', changes: two });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'APPLY_CHANGES_ERROR', message: /validator crashed/ });
    c.send({ type: 'apply_changes', requestId: 'ok', changes: [two[0]] });
    expect(await c.next()).toMatchObject({ type: 'apply_result', requestId: 'ok', applied: 1 });
    expect(afterCalls).toBe(1);
    await c.close();
    await expect.poll(() => disconnects).toBe(1);
    // The server is still fine.
    const again = await connect(srv, { databaseId: 'db', siteId: siteField() });
    expect(again.reply.type).toBe('handshake_ack');
    expect(srv.server.service.stores.refCount('db')).toBe(1);
  });

  it('authorizes every operation; a denial answers "Not authorized" with the operation’s code', async () => {
    const srv = await serve({ onAuthorize: () => false });
    const { c } = await connect(srv, { databaseId: 'db', siteId: siteField() });
    const cases: [unknown, string][] = [
      [{ type: 'get_changes' }, 'GET_CHANGES_ERROR'],
      [{ type: 'apply_changes', changes: [] }, 'APPLY_CHANGES_ERROR'],
      [{ type: 'get_snapshot' }, 'SNAPSHOT_ERROR'],
    ];
    for (const [message, code] of cases) {
      c.send(message);
      expect(await c.next()).toEqual({ type: 'error', code, message: 'Not authorized', fatal: false });
    }
  });

  it('a hook that never answers is cut off by the hook timeout and leaks nothing', async () => {
    const srv = await serve({
      onAuthenticate: (ctx) => (ctx.token === 'hang' ? never() : { siteId: ctx.siteId ?? newSiteId() }),
      onClientConnect: (_client, _socket, databaseId) => (databaseId === 'hang-db' ? never() : true),
      onAuthorize: (_client, op) => (op.type === 'get_changes' ? never() : true),
    });
    const slowAuth = await connect(srv, { databaseId: 'db', siteId: siteField(), token: 'hang' });
    await expectAuthFailed(slowAuth.c, slowAuth.reply, /onAuthenticate did not answer within 150 ms/);
    const slowConnect = await connect(srv, { databaseId: 'hang-db', siteId: siteField() });
    await expectAuthFailed(slowConnect.c, slowConnect.reply, /onClientConnect did not answer/);
    expect(srv.server.service.stores.refCount('hang-db')).toBe(0);

    const { c } = await connect(srv, { databaseId: 'db', siteId: siteField() });
    c.send({ type: 'get_changes' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'GET_CHANGES_ERROR', message: /did not answer/ });
    await expect(c.drain()).resolves.toEqual([]);
    await c.close();
    await expect.poll(() => srv.server.service.stores.refCount('db')).toBe(0);
    expect(srv.server.service.status().connectedClients).toBe(0);
  });

  it('a socket that closes during a slow handshake gets no session and releases its store', async () => {
    let release!: () => void;
    const held = new Promise<boolean>((resolve) => (release = () => resolve(true)));
    let connects = 0;
    let disconnects = 0;
    const srv = await serve({
      onClientConnect: () => {
        connects++;
        return held;
      },
      onClientDisconnect: () => void disconnects++,
    });
    const c = await TestClient.open(srv.ws);
    c.send({ type: 'handshake', databaseId: 'db', siteId: siteField(), protocolVersion: 1 });
    await expect.poll(() => connects).toBe(1);
    await c.close();
    release();
    const service = srv.server.service;
    await expect.poll(() => service.metrics.wsConnectionsActive.get().then((m) => m.values[0]?.value)).toBe(0);
    expect(service.stores.refCount('db')).toBe(0);
    expect(service.status().connectedClients).toBe(0);
    expect(disconnects).toBe(0);
  });
});
