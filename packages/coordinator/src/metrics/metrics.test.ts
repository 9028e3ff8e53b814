import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DatabaseSessionGauge, OTHER_DATABASES } from './database-session-gauge.js';
import { createMetrics } from './metrics.js';

/** PROTOCOL.md §6.8's names, then Syncord's own. */
const NAMES: Record<string, string> = {
  sync_websocket_connections_total: 'counter',
  sync_websocket_connections_active: 'gauge',
  sync_http_requests_total: 'counter',
  sync_http_request_duration_seconds: 'histogram',
  sync_changes_applied_total: 'counter',
  sync_changes_received_total: 'counter',
  sync_changes_rejected_total: 'counter',
  sync_changes_broadcast_total: 'counter',
  sync_broadcast_errors_total: 'counter',
  sync_snapshot_requests_total: 'counter',
  sync_snapshot_chunks_total: 'counter',
  sync_auth_attempts_total: 'counter',
  sync_auth_failures_total: 'counter',
  sync_apply_changes_duration_seconds: 'histogram',
  sync_get_changes_duration_seconds: 'histogram',
  sync_change_batch_size: 'histogram',
  sync_open_stores: 'gauge',
  sync_database_sessions: 'gauge',
  sync_errors_total: 'counter',
  sync_limit_rejections_total: 'counter',
  sync_websocket_ping_timeouts_total: 'counter',
  sync_websocket_send_buffer_peak_bytes: 'gauge',
  sync_snapshot_streams_active: 'gauge',
  sync_origin_rejections_total: 'counter',
  sync_snapshot_resume_refusals_total: 'counter',
  sync_tombstones_pruned_total: 'counter',
};

describe('createMetrics', () => {
  it('exports every metric by name and type, with the process metrics', async () => {
    const text = await createMetrics().registry.metrics();
    for (const [name, type] of Object.entries(NAMES)) expect(text).toContain(`# TYPE ${name} ${type}\n`);
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
  });

  it('uses the protocol buckets and labels', async () => {
    const metrics = createMetrics();
    metrics.changeBatchSize.observe(42);
    metrics.applyChangesDuration.observe(0.002);
    metrics.httpRequestsTotal.inc({ route: '/sync/:databaseId/changes', method: 'POST', status: '200' });
    metrics.errorsTotal.inc({ code: 'AUTH_FAILED' });
    metrics.limitRejectionsTotal.inc({ limit: 'maxChangesPerApply' }, 2);
    const text = await metrics.registry.metrics();
    expect(text).toContain('sync_change_batch_size_bucket{le="50"} 1\n');
    expect(text).toContain('sync_change_batch_size_bucket{le="10"} 0\n');
    expect(text).toContain('sync_change_batch_size_bucket{le="100000"} 1\n');
    expect(text).toContain('sync_apply_changes_duration_seconds_bucket{le="0.005"} 1\n');
    expect(text).toContain('sync_apply_changes_duration_seconds_bucket{le="0.001"} 0\n');
    expect(text).toContain('sync_http_requests_total{route="/sync/:databaseId/changes",method="POST",status="200"} 1');
    expect(text).toContain('sync_errors_total{code="AUTH_FAILED"} 1');
    expect(text).toContain('sync_limit_rejections_total{limit="maxChangesPerApply"} 2');
  });

  it('gives each call its own registry', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.changesAppliedTotal.inc(5);
    a.databaseSessions.inc('db1');
    expect(await b.registry.metrics()).toContain('sync_changes_applied_total 0\n');
    expect(await a.registry.metrics()).toContain('sync_changes_applied_total 5\n');
    expect(await b.registry.metrics()).not.toContain('database="db1"');
  });

  it('lists every metric in README.md', () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    for (const name of Object.keys(NAMES)) expect(readme).toMatch(new RegExp(`\`${name}[\`{]`));
  });
});

describe('DatabaseSessionGauge', () => {
  const scrape = async (registry: Registry): Promise<string[]> =>
    (await registry.metrics()).split('\n').filter((line) => line.startsWith('sync_database_sessions{'));

  it('counts sessions per database and forgets a database at zero', () => {
    const gauge = new DatabaseSessionGauge(new Registry());
    gauge.inc('a');
    gauge.inc('a');
    gauge.dec('a');
    expect(gauge.get('a')).toBe(1);
    gauge.dec('a');
    gauge.dec('a');
    expect(gauge.get('a')).toBe(0);
    expect(gauge.size).toBe(0);
  });

  it('names the busiest databases and sums the rest into _other', async () => {
    const registry = new Registry();
    const gauge = new DatabaseSessionGauge(registry, 2);
    const sessions: Record<string, number> = { small: 1, big: 5, mid: 3, tie: 3, [OTHER_DATABASES]: 2 };
    for (const [database, count] of Object.entries(sessions)) for (let i = 0; i < count; i++) gauge.inc(database);
    expect(gauge.series()).toEqual([
      ['big', 5],
      ['mid', 3],
      [OTHER_DATABASES, 3 + 1 + 2],
    ]);
    expect(await scrape(registry)).toEqual([
      'sync_database_sessions{database="big"} 5',
      'sync_database_sessions{database="mid"} 3',
      'sync_database_sessions{database="_other"} 6',
    ]);
    // Series follow the counts at each scrape: no stale database stays behind.
    for (let i = 0; i < 5; i++) gauge.dec('big');
    expect(await scrape(registry)).toEqual([
      'sync_database_sessions{database="mid"} 3',
      'sync_database_sessions{database="tie"} 3',
      'sync_database_sessions{database="_other"} 3',
    ]);
  });

  it('keeps the number of series bounded however many databases there are', async () => {
    const registry = new Registry();
    const gauge = new DatabaseSessionGauge(registry);
    for (let i = 0; i < 500; i++) gauge.inc(`tenant-${i}`);
    const lines = await scrape(registry);
    expect(lines).toHaveLength(51);
    expect(lines.at(-1)).toBe('sync_database_sessions{database="_other"} 450');
  });
});
