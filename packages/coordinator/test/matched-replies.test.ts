// Issue 10 item 3, server half: every WebSocket request that expects a reply gets one the client
// can match (its apply_result, or an error echoing its requestId), or the socket closes; the rate
// limiter never leaves a request unanswered on an open socket.
import { encodeSiteId, newSiteId } from '@syncord/core';
import { RATE_DROP_CLOSE } from '@syncord/coordinator';
import { describe, expect, it } from 'vitest';
import { BASE_WALL, wire, writeRow } from './support/change-sets.js';
import { startTestServer, type ConfigOverrides, type TestServer } from './support/test-server.js';
import { perTestServers } from './support/per-test-servers.js';
import { TestClient, type ServerJson } from './support/ws-client.js';

let srv: TestServer | undefined;
const { clients, adopt } = perTestServers('terminate');

async function serve(config: ConfigOverrides = {}): Promise<TestServer> {
  srv = adopt(await startTestServer({ config }));
  return srv;
}

async function open(server: TestServer, handshake = true): Promise<TestClient> {
  const c = await TestClient.open(server.ws);
  clients.push(c);
  if (handshake)
    expect((await c.handshake({ databaseId: 'db', siteId: encodeSiteId(site) })).type).toBe('handshake_ack');
  return c;
}

const site = newSiteId();
const row = (i: number) => wire(writeRow(site, 't', [i], { v: i }, { counter: i }));
/** Reads until `n` messages have arrived. */
async function take(c: TestClient, n: number): Promise<ServerJson[]> {
  const out: ServerJson[] = [];
  for (let i = 0; i < n; i++) out.push(await c.next());
  return out;
}
/** Stored facts of site-less readers: what the database holds. */
async function stored(server: TestServer): Promise<unknown[]> {
  const res = await fetch(`${server.http}/db/changes`, { headers: { 'x-site-id': encodeSiteId(newSiteId()) } });
  return ((await res.json()) as { data: { changes: unknown[] } }).data.changes;
}

// A burst of 3 at 50 messages/s: after three pings the bucket is empty (a refill between
// messages written in one tick is a few thousandths of a token), so the next message is dropped;
// a connection is closed for flooding only 3 messages in debt.
const RATE = { limits: { messageRatePerSecond: 50, messageBurst: 3 } };

describe('a message dropped by the rate limiter', () => {
  it('answers an apply_changes with RATE_LIMITED echoing its requestId, keeps the socket, stores nothing', async () => {
    const server = await serve(RATE);
    const c = await open(server);
    // The bucket refills to its burst (3) within 60 ms at 50/s, whatever the handshake left in it:
    // then exactly the three pings fit, and the apply is the one message dropped.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 3; i++) c.send({ type: 'ping' });
    c.send({ type: 'apply_changes', requestId: 'apply-9', changes: [row(1)] });
    const replies = await take(c, 4);
    const dropped = replies.find((m) => m.type === 'error');
    expect(dropped).toMatchObject({ type: 'error', code: 'RATE_LIMITED', fatal: false, requestId: 'apply-9' });
    expect(replies.filter((m) => m.type === 'apply_result')).toEqual([]);
    expect(c.socket.readyState).toBe(c.socket.OPEN);
    expect(await stored(server)).toEqual([]);

    // Once the bucket refills (at 50/s, well within this wait), the retry is applied.
    await new Promise((resolve) => setTimeout(resolve, 300));
    c.send({ type: 'apply_changes', requestId: 'apply-9', changes: [row(1)] });
    expect(await c.next()).toMatchObject({ type: 'apply_result', requestId: 'apply-9', applied: 1 });
  });

  it.each([
    ['get_changes', { type: 'get_changes' }],
    ['get_snapshot', { type: 'get_snapshot' }],
    ['an apply without requestId', { type: 'apply_changes', changes: [row(2)] }],
  ])('answers %s, which has no id to match, with RATE_LIMITED and a close the client retries', async (_, message) => {
    const server = await serve(RATE);
    const c = await open(server);
    for (let i = 0; i < 3; i++) c.send({ type: 'ping' });
    c.send(message);
    const replies: ServerJson[] = [];
    const closed = await Promise.race([
      c.closed,
      new Promise((resolve) => setTimeout(() => resolve('still open after 5 s'), 5000)),
    ]);
    for (;;) {
      const next = await c.next().catch(() => undefined);
      if (!next) break;
      replies.push(next);
    }
    expect(replies.at(-1)).toMatchObject({ type: 'error', code: 'RATE_LIMITED', fatal: false });
    expect(replies.at(-1)).not.toHaveProperty('requestId');
    expect(closed).toEqual({ code: RATE_DROP_CLOSE.code, reason: RATE_DROP_CLOSE.reason });
    expect(await stored(server)).toEqual([]);
  });
});

describe('a failed apply_changes', () => {
  it('echoes its requestId whatever failed: before the handshake, malformed, a limit, the merge', async () => {
    const server = await serve({ limits: { maxChangesPerApply: 2 } });
    const early = await open(server, false);
    early.send({ type: 'apply_changes', requestId: 'apply-1', changes: [row(1)] });
    expect(await early.next()).toMatchObject({ type: 'error', code: 'NOT_AUTHENTICATED', requestId: 'apply-1' });

    const c = await open(server);
    c.send({ type: 'apply_changes', requestId: 'apply-2', changes: 'nope' });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'APPLY_CHANGES_ERROR', requestId: 'apply-2' });
    c.send({ type: 'apply_changes', requestId: 7, changes: [row(1), row(2), row(3)] });
    expect(await c.next()).toMatchObject({
      type: 'error',
      code: 'APPLY_CHANGES_ERROR',
      message: /maxChangesPerApply/,
      requestId: 7,
    });
    // Refused in the commit itself: a clock far ahead of the server's.
    const ahead = wire(writeRow(site, 't', [4], { v: 4 }, { wall: BASE_WALL + 86_400_000n * 365n }));
    c.send({ type: 'apply_changes', requestId: 'apply-3', changes: [ahead] });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'APPLY_CHANGES_ERROR', requestId: 'apply-3' });
    // Other failures carry no id: there is none to echo.
    c.send({ type: 'get_changes', sinceHLC: 'bad' });
    expect(await c.next()).not.toHaveProperty('requestId');
    expect(await stored(server)).toEqual([]);
  });
});
