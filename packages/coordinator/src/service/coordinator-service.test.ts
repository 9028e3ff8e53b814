// The service used without a network: sessions, teardown, broadcast failures, resync, drain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  encodeChangeSet,
  encodeSiteId,
  newSiteId,
  openMemoryReplica,
  ProtocolError,
  transactionIdOf,
  type ChangeSet,
  type SiteId,
} from '@syncord/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type CoordinatorConfig } from '../config/types.js';
import { CoordinatorService, type CoordinatorServiceOptions } from './coordinator-service.js';
import type { ConnectionSink } from './connection.js';
import { ConnectionClosedError } from './errors.js';
import { InProcessFanout } from './fanout.js';

const services: CoordinatorService[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function config(overrides: Partial<CoordinatorConfig> = {}): CoordinatorConfig {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'syncord-service-'));
  dirs.push(dataDir);
  return { ...DEFAULT_CONFIG, dataDir, ...overrides };
}

function service(options: Partial<CoordinatorServiceOptions> = {}): CoordinatorService {
  const s = new CoordinatorService({ config: config(), openReplica: () => openMemoryReplica(), ...options });
  services.push(s);
  return s;
}

class RecordingSink implements ConnectionSink {
  readonly messages: Record<string, unknown>[] = [];
  readonly closes: [number, string][] = [];
  failing = false;
  send(text: string): void {
    if (this.failing) throw new Error('socket gone');
    this.messages.push(JSON.parse(text) as Record<string, unknown>);
  }
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
}

function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

function row(site: SiteId, pk: number, value: string, wall = BigInt(Date.now() - 60_000)): ChangeSet {
  const hlc = { wallTime: wall, counter: pk, siteId: site, opSeq: 0 };
  return {
    siteId: site,
    transactionId: transactionIdOf(hlc),
    hlc,
    changes: [{ type: 'column', schema: 'main', table: 't', pk: [pk], column: 'v', value, hlc }],
    schemaMigrations: [],
  };
}

async function join(s: CoordinatorService, databaseId: string, site: SiteId = newSiteId()) {
  const sink = new RecordingSink();
  const connection = s.connect(sink);
  await connection.handshake({ protocolVersion: 1, databaseId, siteId: encodeSiteId(site) });
  return { sink, connection, site };
}

describe('CoordinatorService sessions', () => {
  it('tears a session down exactly once, however often close is called', async () => {
    let disconnects = 0;
    const s = service({ hooks: { onClientDisconnect: () => void disconnects++ } });
    const { connection } = await join(s, 'db');
    expect(s.status().connectedClients).toBe(1);
    expect(s.stores.refCount('db')).toBe(1);
    connection.close();
    connection.close();
    expect(s.status().connectedClients).toBe(0);
    expect(s.stores.refCount('db')).toBe(0);
    await expect.poll(() => disconnects).toBe(1);
    expect((await s.metrics.wsConnectionsActive.get()).values[0]?.value).toBe(0);
    expect(() => connection.getChanges()).toThrow(ProtocolError);
  });

  it('a connection closed while its store opens gets no ack, and the reference is returned', async () => {
    const opening = gate();
    const s = service({
      openReplica: async () => {
        await opening.promise;
        return openMemoryReplica();
      },
    });
    const sink = new RecordingSink();
    const connection = s.connect(sink);
    const handshake = connection.handshake({ protocolVersion: 1, databaseId: 'db', siteId: encodeSiteId(newSiteId()) });
    await expect.poll(() => s.stores.refCount('db')).toBe(1);
    connection.close();
    opening.open();
    await expect(handshake).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(s.stores.refCount('db')).toBe(0);
    expect(s.status().connectedClients).toBe(0);
  });

  it('a failed handshake registers nothing and leaves the connection able to retry', async () => {
    const fanout = new InProcessFanout();
    const s = service({ fanout, hooks: { onClientConnect: (client) => client.siteId[0]! % 2 === 0 } });
    const connection = s.connect(new RecordingSink());
    let odd = newSiteId();
    while (odd[0]! % 2 === 0) odd = newSiteId();
    await expect(
      connection.handshake({ protocolVersion: 1, databaseId: 'db', siteId: encodeSiteId(odd) }),
    ).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: 'Connection rejected',
    });
    expect(fanout.subscriberCount('db')).toBe(0);
    expect(s.stores.refCount('db')).toBe(0);
    expect(s.status().connectedClients).toBe(0);
  });
});

describe('CoordinatorService broadcast', () => {
  it('a failed send to one socket is counted and affects neither the others nor the result', async () => {
    const s = service();
    const a = await join(s, 'db');
    const broken = await join(s, 'db');
    const c = await join(s, 'db');
    broken.sink.failing = true;
    const cs = row(a.site, 1, 'x');
    const result = await a.connection.applyChanges([cs]);
    expect(result).toEqual({ applied: 1, skipped: 0, conflicts: 0, transactions: 1 });
    expect(c.sink.messages).toEqual([{ type: 'push_changes', changeSets: [encodeChangeSet(cs)] }]);
    expect(a.sink.messages).toEqual([]);
    expect((await s.metrics.broadcastErrorsTotal.get()).values[0]?.value).toBe(1);
    expect((await s.metrics.changesBroadcastTotal.get()).values[0]?.value).toBe(1);
  });

  it('serializes a broadcast once for all recipients, and not at all without one', async () => {
    const published: string[] = [];
    const inner = new InProcessFanout();
    const s = service({
      fanout: {
        subscribe: (db, sub) => inner.subscribe(db, sub),
        publish: (db, origin, message) => {
          const encode = typeof message === 'string' ? () => message : message;
          return inner.publish(db, origin, () => {
            const text = encode();
            published.push(text);
            return text;
          });
        },
      },
    });
    const a = await join(s, 'db');
    await a.connection.applyChanges([row(a.site, 9, 'alone')]);
    expect(published).toHaveLength(0);
    const others = await Promise.all([1, 2, 3].map(() => join(s, 'db')));
    await a.connection.applyChanges([row(a.site, 1, 'x')]);
    expect(published).toHaveLength(1);
    for (const o of others) expect(o.sink.messages).toHaveLength(1);
  });
});

describe('CoordinatorService catch-up and shutdown', () => {
  it('refuses a watermark past the retention horizon with RESYNC_REQUIRED (non-fatal)', async () => {
    let now = Date.now();
    const cfg = { ...config(), sync: { ...DEFAULT_CONFIG.sync, retentionHorizonMs: 1000 } };
    const s = new CoordinatorService({ config: cfg, openReplica: () => openMemoryReplica({ now: () => now }) });
    services.push(s);
    const writer = await join(s, 'db');
    const hlc = { wallTime: BigInt(now - 5000), counter: 0, siteId: writer.site, opSeq: 0 };
    await writer.connection.applyChanges([
      {
        siteId: writer.site,
        transactionId: transactionIdOf(hlc),
        hlc,
        changes: [{ type: 'delete', schema: 'main', table: 't', pk: [1], hlc }],
        schemaMigrations: [],
      },
    ]);
    const reader = await join(s, 'db');
    const stale = { wallTime: BigInt(now - 10_000), counter: 0, siteId: writer.site, opSeq: 0 };
    now += 5000;
    expect(s.runMaintenance()).toBe(1);
    await expect(reader.connection.getChanges(stale)).rejects.toMatchObject({ code: 'RESYNC_REQUIRED' });
    await expect(reader.connection.getChanges()).resolves.toEqual([]);
  });

  it('close() lets an apply in flight finish before the stores close, and refuses new work', async () => {
    const hold = gate();
    let entered = false;
    const s = service({
      hooks: {
        onBeforeApplyChanges: async (_c, changes) => {
          entered = true;
          await hold.promise;
          return { approved: changes, rejected: [] };
        },
      },
    });
    const a = await join(s, 'db');
    const applying = a.connection.applyChanges([row(a.site, 1, 'x')]);
    await expect.poll(() => entered).toBe(true);
    const closing = s.close();
    await expect(a.connection.getChanges()).rejects.toMatchObject({ message: 'Server shutting down' });
    hold.open();
    await expect(applying).resolves.toMatchObject({ applied: 1 });
    await closing;
    expect(a.sink.closes).toEqual([[1001, 'Server shutting down']]);
    expect(s.stores.openCount).toBe(0);
  });

  it('close() ends a snapshot stream its reader left waiting; its next step fails, not completes', async () => {
    const s = service();
    const a = await join(s, 'db');
    await s.applyChanges(a.connection.session!, [row(a.site, 1, 'x')]);
    const chunks = a.connection.snapshot();
    expect(JSON.parse((await chunks.next()).value as string)).toMatchObject({ type: 'header' });
    expect((await s.metrics.snapshotStreamsActive.get()).values[0]?.value).toBe(1);
    await s.close();
    // Ended before the stores closed: its slot (and its engine read) were given back.
    expect((await s.metrics.snapshotStreamsActive.get()).values[0]?.value).toBe(0);
    await expect(chunks.next()).rejects.toMatchObject({ code: 'SNAPSHOT_ERROR', message: 'Server shutting down' });
    await expect(chunks.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('runs an HTTP-style request session and releases its store when it ends', async () => {
    const s = service();
    const site = newSiteId();
    const session = await s.openRequest({ databaseId: 'db', siteIdRaw: encodeSiteId(site) });
    expect(s.stores.refCount('db')).toBe(1);
    await s.applyChanges(session, [row(site, 1, 'x')]);
    session.end();
    session.end();
    expect(s.stores.refCount('db')).toBe(0);
    await expect(s.openRequest({ databaseId: 'a b' })).rejects.toMatchObject({ code: 'INVALID_DATABASE_ID' });
    await expect(s.openRequest({ databaseId: 'db' })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    expect(s.stores.refCount('db')).toBe(0);
  });
});
