// The cluster's log against real nats-server processes (Debian's binary, JetStream, temp stores):
// durable on acknowledgement, arrival order per database, retries stored once, a NATS restart and a
// lost server in a three-server cluster lose nothing acknowledged.
import { afterEach, describe, expect, it } from 'vitest';
import { JetStreamLog, databaseToken, type LogEntry } from '../src/cluster/jetstream-log.js';
import { startNatsCluster, startNatsServer, waitForJetStream, type NatsTestCluster } from './support/nats-server.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decoded = (entries: readonly LogEntry[]): string[] => entries.map((e) => new TextDecoder().decode(e.data));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openLog(servers: string, replicas = 1, nodeName = 'node-a'): Promise<JetStreamLog> {
  const log = await JetStreamLog.open({
    servers,
    subjectPrefix: 'syncord-test',
    replicas,
    duplicateWindowMs: 60_000,
    nodeName,
    ackTimeoutMs: 5000,
  });
  cleanups.push(() => log.close());
  return log;
}

/** Collects a database's entries after `afterSeq` until `count` arrived (bounded wait). */
async function readEntries(
  log: JetStreamLog,
  databaseId: string,
  afterSeq: number,
  count: number,
): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  let arrived: () => void = () => {};
  const all = new Promise<void>((resolve) => (arrived = resolve));
  const tail = await log.tail(databaseId, afterSeq, (entry) => {
    entries.push(entry);
    if (entries.length === count) arrived();
  });
  if (count === 0) arrived();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`only ${entries.length} of ${count} entries within 10 s`)), 10_000),
  );
  try {
    await Promise.race([all, timeout]);
  } finally {
    await tail.stop();
  }
  return entries;
}

/** An append retried with its id until acknowledged (bounded): stored once whatever happened. */
async function appendRetrying(log: JetStreamLog, databaseId: string, value: string): Promise<{ seq: number }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return await log.append(databaseId, text(value), value);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

describe('the JetStream log', () => {
  it('keeps each database in arrival order, stores a retried append once, and says where each database ends', async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.remove());
    const log = await openLog(nats.url);
    const a1 = await log.append('acme:notes', text('a1'), 'id-a1');
    const b1 = await log.append('beta', text('b1'), 'id-b1');
    const a2 = await log.append('acme:notes', text('a2'), 'id-a2');
    expect([a1.seq < b1.seq, b1.seq < a2.seq]).toEqual([true, true]);
    // A retry of an acknowledged append (the node could not tell it had landed) is not stored again.
    expect(await log.append('acme:notes', text('a2'), 'id-a2')).toEqual({ seq: a2.seq, duplicate: true });

    expect(decoded(await readEntries(log, 'acme:notes', 0, 2))).toEqual(['a1', 'a2']);
    expect(decoded(await readEntries(log, 'acme:notes', a1.seq, 1))).toEqual(['a2']);
    expect(await log.lastSeq('acme:notes')).toBe(a2.seq);
    expect(await log.lastSeq('beta')).toBe(b1.seq);
    expect(await log.lastSeq('nobody')).toBe(0);
    // Ids hooks may allow (dots, spaces, wildcards) still make one subject token each.
    expect(databaseToken('a.b c>*')).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(databaseToken('a.b')).not.toBe(databaseToken('a_b'));
  });

  it('loses nothing acknowledged when the NATS server is killed and restarted on its store', async () => {
    const nats = await startNatsServer();
    cleanups.push(() => nats.remove());
    const log = await openLog(nats.url);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push((await log.append('db', text(`w${i}`), `w${i}`)).seq);
    await nats.kill();
    await nats.start();
    await waitForJetStream(nats.url);
    // The same client reconnects on its own; old entries are there, and new appends follow them
    // (retried with the same id while JetStream recovers its store, as a node does).
    const after = await appendRetrying(log, 'db', 'after');
    expect(after.seq).toBeGreaterThan(acked.at(-1)!);
    const entries = await readEntries(log, 'db', 0, 21);
    expect(entries.map((e) => e.seq)).toEqual([...acked, after.seq]);
    expect(decoded(entries).at(-1)).toBe('after');
  });

  it('keeps serving with three replicas when one of three NATS servers dies', async () => {
    const cluster: NatsTestCluster = await startNatsCluster(3);
    cleanups.push(() => cluster.stop());
    const writer = await openLog(cluster.servers[0]!.url, 3, 'node-a');
    const first = await writer.append('db', text('before'), 'before');
    await cluster.servers[2]!.kill();
    const second = await appendRetrying(writer, 'db', 'during');
    // Another node, connected to another server, reads both in order.
    const reader = await openLog(cluster.servers[1]!.url, 3, 'node-b');
    const entries = await readEntries(reader, 'db', 0, 2);
    expect(entries.map((e) => e.seq)).toEqual([first.seq, second.seq]);
    expect(decoded(entries)).toEqual(['before', 'during']);
  });
});
