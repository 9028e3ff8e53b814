// Every metric of PROTOCOL.md §6.8 (and ours) is actually updated by real traffic.
import { encodeSiteId, newSiteId } from '@syncord/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wire, writeRow } from './support/change-sets.js';
import { startTestServer, type TestServer } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({
    config: {
      auth: { mode: 'token-whitelist', tokens: ['t'] },
      metrics: { perDatabaseLabels: true, token: 'scrape' },
    },
    hooks: {
      onBeforeApplyChanges: (_c, changes) => ({
        approved: changes.slice(0, 1),
        rejected: changes.slice(1).map((change) => ({ change, reason: 'one at a time' })),
      }),
    },
  });
});
afterAll(() => srv.stop());

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

it('updates every metric name', async () => {
  const [siteA, siteB] = [newSiteId(), newSiteId()];
  const a = await TestClient.open(srv.ws);
  const b = await TestClient.open(srv.ws);
  const bad = await TestClient.open(srv.ws);
  await a.handshake({ databaseId: 'db', siteId: encodeSiteId(siteA), token: 't' });
  await b.handshake({ databaseId: 'db', siteId: encodeSiteId(siteB), token: 't' });
  await bad.handshake({ databaseId: 'db', siteId: encodeSiteId(newSiteId()), token: 'nope' });
  await bad.closed;
  a.send({
    type: 'apply_changes',
    changes: [1, 2].map((i) => wire(writeRow(siteA, 't', [i], { v: i }, { counter: i }))),
  });
  expect(await a.next('apply_result')).toMatchObject({ applied: 1, rejected: [{ reason: 'one at a time' }] });
  await b.next('push_changes');
  b.send({ type: 'get_changes' });
  await b.next('changes');
  b.send({ type: 'get_snapshot' });
  await b.waitFor('snapshot_complete');
  b.send({ type: 'nonsense' });
  await b.next('error');

  const text = await (await fetch(`${srv.http}/metrics`, { headers: { authorization: 'Bearer scrape' } })).text();
  const expectations: [string, number][] = [
    ['sync_websocket_connections_total', 3],
    ['sync_websocket_connections_active', 2],
    ['sync_changes_applied_total', 1],
    ['sync_changes_received_total', 2],
    ['sync_changes_rejected_total', 1],
    ['sync_changes_broadcast_total', 1],
    ['sync_snapshot_requests_total', 1],
    ['sync_auth_attempts_total', 3],
    ['sync_auth_failures_total', 1],
    ['sync_apply_changes_duration_seconds_count', 1],
    ['sync_get_changes_duration_seconds_count', 1],
    ['sync_change_batch_size_count', 1],
    ['sync_change_batch_size_sum', 2],
    ['sync_open_stores', 1],
    ['sync_database_sessions{database="db"}', 2],
    ['sync_errors_total{code="AUTH_FAILED"}', 1],
    ['sync_errors_total{code="UNKNOWN_MESSAGE"}', 1],
    ['sync_broadcast_errors_total', 0],
  ];
  for (const [series, expected] of expectations) expect(value(text, series), series).toBe(expected);
  expect(value(text, 'sync_snapshot_chunks_total')).toBeGreaterThanOrEqual(5);
  expect(text).toMatch(/sync_http_requests_total\{route="\/sync\/ws",method="GET",status="101"\} 3/);
  await Promise.all([a.close(), b.close()]);
});
