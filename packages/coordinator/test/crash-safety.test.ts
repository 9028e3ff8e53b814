// Crash safety (issue 4 item 7): the real `syncord` process is SIGKILLed at random moments while
// several clients push over WebSocket and HTTP POST into several databases, then restarted on the
// same data dir. Every acknowledged write (apply_result received, HTTP 200) must be served again
// (get_changes from zero, a snapshot, HTTP GET), every database must open with its server site id
// unchanged, and nothing that was never sent may appear. Seeded: SYNCORD_CRASH_SEED=<n> replays
// the same writes and kill delays.
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId, newSiteId, type ChangeSet, type SiteId, type SqlValue } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { BASE_WALL, deleteRow, wire, writeRow } from './support/change-sets.js';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { tempDir } from './support/test-server.js';
import { TestClient, type ServerJson } from './support/ws-client.js';
import {
  checkServed,
  Ledger,
  servedFromChangeSets,
  servedFromSnapshot,
  show,
  type Served,
  type WireChange,
} from './support/write-ledger.js';

const SEED = Number(process.env['SYNCORD_CRASH_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const LANES = 2; // independent data dirs killed in parallel, to halve the wall time of restarts
const KILLS_PER_LANE = 10;
const DATABASES = ['crash:alpha', 'crash.beta', 'crash_gamma'] as const;
const WRITERS = 4;
/** A WebSocket writer reconnects after this many applies, staying inside the default message burst. */
const APPLIES_PER_SOCKET = 120;
const SERVER_ARGS = ['--batch-size', '100000000'];

/** mulberry32: small, seeded, good enough to pick delays and shapes reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** The ledger check, naming the seed in every failure. */
const check = (ledger: Ledger, db: string, served: Served, where: string) =>
  checkServed(ledger, db, served, `${where} (seed ${SEED})`);

async function join(server: ChildServer, ledger: Ledger, db: string, site: SiteId): Promise<TestClient> {
  const c = await TestClient.open(server.ws);
  const ack = await c.handshake({ databaseId: db, siteId: encodeSiteId(site) });
  expect(ack.type, `handshake on ${db} after a restart (seed ${SEED})`).toBe('handshake_ack');
  const pinned = ledger.serverSites.get(db) ?? (ack.serverSiteId as string);
  expect(ack.serverSiteId, `server site id of ${db} changed across a crash (seed ${SEED})`).toBe(pinned);
  ledger.serverSites.set(db, pinned);
  return c;
}

/** Reads every database back through the server: WS get_changes always, a snapshot and HTTP GET for some. */
async function verify(server: ChildServer, ledger: Ledger, round: number, everyPath: boolean): Promise<void> {
  const reader = newSiteId();
  for (const [i, db] of DATABASES.entries()) {
    const c = await join(server, ledger, db, reader);
    c.send({ type: 'get_changes' });
    const changes = await c.next('changes');
    check(
      ledger,
      db,
      servedFromChangeSets(db, changes.changeSets as { changes: WireChange[] }[]),
      `round ${round} ${db} get_changes`,
    );
    if (everyPath || i === round % DATABASES.length) {
      c.send({ type: 'get_snapshot' });
      const chunks: ServerJson[] = [];
      for (let m = await c.next(); m.type !== 'snapshot_complete'; m = await c.next()) {
        expect(m.type, `round ${round} ${db} snapshot (seed ${SEED})`).toBe('snapshot_chunk');
        chunks.push(m);
      }
      check(ledger, db, servedFromSnapshot(db, chunks), `round ${round} ${db} snapshot`);
    }
    await c.close();
    if (everyPath || i === (round + 1) % DATABASES.length) {
      const res = await fetch(`${server.http}/${db}/changes`, { headers: { 'x-site-id': encodeSiteId(reader) } });
      expect(res.status, `round ${round} ${db} HTTP GET (seed ${SEED})`).toBe(200);
      const body = (await res.json()) as { data: { changes: { changes: WireChange[] }[] } };
      check(ledger, db, servedFromChangeSets(db, body.data.changes), `round ${round} ${db} HTTP GET`);
    }
  }
}

/** One client site: its own clock and rows, writing until the server dies under it. */
class Writer {
  private readonly site = newSiteId();
  private wall = BASE_WALL;
  private seq = 0;
  private readonly own: { db: string; table: string; pk: SqlValue[] }[] = [];

  constructor(
    private readonly index: number,
    private readonly ledger: Ledger,
    private readonly random: () => number,
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private value(): SqlValue {
    const n = Math.floor(this.random() * 1e9);
    return this.pick<() => SqlValue>([
      () => n,
      () => `text ${n}`,
      () => null,
      () => n / 7,
      () => 2n ** 64n + BigInt(n),
      () => new Uint8Array([n & 255, 0, 255, (n >> 8) & 255]),
    ])();
  }

  /** 1–3 transactions: mostly fresh rows, sometimes the delete of an acked row of this writer. */
  private nextApply(db: string): ChangeSet[] {
    const sets: ChangeSet[] = [];
    const count = 1 + Math.floor(this.random() * 3);
    for (let i = 0; i < count; i++) {
      this.wall += 1n;
      const candidates = this.own.filter((r) => r.db === db);
      const victim = this.random() < 0.1 && candidates.length > 0 ? this.pick(candidates) : undefined;
      if (victim) {
        this.own.splice(this.own.indexOf(victim), 1);
        sets.push(deleteRow(this.site, victim.table, victim.pk, { wall: this.wall }));
        continue;
      }
      const table = this.pick(['notes', 'tags']);
      const pk = [`w${this.index}-${++this.seq}`];
      const columns: Record<string, SqlValue> = {};
      for (const column of ['a', 'b', 'c'].slice(0, 1 + Math.floor(this.random() * 3))) columns[column] = this.value();
      sets.push(writeRow(this.site, table, pk, columns, { wall: this.wall }));
    }
    return sets;
  }

  private settle(db: string, sets: ChangeSet[], result: Record<string, unknown> | undefined): void {
    this.ledger.recordOutcome(db, sets, result !== undefined);
    if (result === undefined) return;
    const facts = sets.reduce((n, cs) => n + cs.changes.length, 0);
    expect(result, `apply acked without applying everything (seed ${SEED})`).toMatchObject({ applied: facts });
    for (const cs of sets) {
      const c = cs.changes[0]!;
      if (c.type === 'column') this.own.push({ db, table: c.table, pk: [...c.pk] });
    }
  }

  /** Writes until `isDead()`; a failure before the kill fails the test. */
  async run(server: ChildServer, isDead: () => boolean): Promise<void> {
    try {
      while (!isDead()) {
        if (this.random() < 0.5) await this.runSocket(server);
        else await this.runHttp(server);
      }
    } catch (err) {
      if (!isDead()) throw err;
    }
  }

  private async runSocket(server: ChildServer): Promise<void> {
    const db = this.pick(DATABASES);
    const c = await join(server, this.ledger, db, this.site);
    try {
      for (let n = 1; n <= APPLIES_PER_SOCKET; n++) {
        const sets = this.nextApply(db);
        sets.forEach((cs) => this.ledger.recordSent(db, cs));
        let reply: ServerJson | undefined;
        try {
          c.send({ type: 'apply_changes', requestId: `apply-${n}`, changes: sets.map(wire) });
          do reply = await c.next();
          while (reply.type === 'push_changes');
        } finally {
          this.settle(db, sets, reply?.type === 'apply_result' ? reply : undefined);
        }
        expect(reply, `seed ${SEED}`).toMatchObject({ type: 'apply_result', requestId: `apply-${n}` });
      }
    } finally {
      c.socket.terminate();
    }
  }

  private async runHttp(server: ChildServer): Promise<void> {
    for (let n = 0; n < 20; n++) {
      const db = this.pick(DATABASES);
      const sets = this.nextApply(db);
      sets.forEach((cs) => this.ledger.recordSent(db, cs));
      let result: Record<string, unknown> | undefined;
      try {
        const res = await fetch(`${server.http}/${db}/changes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-site-id': encodeSiteId(this.site) },
          body: JSON.stringify({ changes: sets.map(wire) }),
        });
        const body = (await res.json()) as { ok: boolean; data: Record<string, unknown> };
        expect(res.status, `HTTP apply refused (seed ${SEED}): ${show(body)}`).toBe(200);
        result = body.data;
      } finally {
        this.settle(db, sets, result);
      }
    }
  }
}

async function runLane(lane: number): Promise<Ledger> {
  // One stream per writer and one for the kill delays, so each writer's choices replay from the seed
  // whatever the interleaving (how far each gets before a kill depends on timing, inevitably).
  const random = prng(SEED + lane * 7919);
  const ledger = new Ledger();
  const writers = Array.from({ length: WRITERS }, (_, i) => new Writer(i, ledger, prng(SEED + lane * 7919 + i + 1)));
  const dataDir = tempDir('syncord-crash-');
  let server: ChildServer | undefined;
  try {
    for (let round = 0; round < KILLS_PER_LANE; round++) {
      server = await startChildServer({ dataDir, args: SERVER_ARGS });
      const current = server;
      await verify(server, ledger, round, false);
      let dead = false;
      const running = writers.map((w) => w.run(current, () => dead));
      await sleep(20 + random() * 400);
      const unackedBefore = ledger.unackedApplies;
      dead = true;
      const exit = await server.kill('SIGKILL');
      expect(exit.signal, `lane ${lane} round ${round}: the server died on its own (seed ${SEED})`).toBe('SIGKILL');
      await Promise.all(running);
      if (ledger.unackedApplies > unackedBefore) ledger.killsMidApply++;
    }
    server = await startChildServer({ dataDir, args: SERVER_ARGS });
    await verify(server, ledger, KILLS_PER_LANE, true);
    expect((await server.stop()).code, `graceful stop after the crashes:\n${server.output()}`).toBe(0);
    // Every file also opens outside the server, with the engine's own opener, and holds the same facts.
    const files = readdirSync(dataDir).filter((f) => f.endsWith('.sqlite'));
    expect(files).toHaveLength(DATABASES.length);
    const dbOfSite = new Map([...ledger.serverSites].map(([db, site]) => [site, db]));
    for (const file of files) {
      const replica = openSqliteReplica(path.join(dataDir, file));
      try {
        const db = dbOfSite.get(encodeSiteId(replica.siteId));
        expect(db, `${file} has a server site id no client saw`).toBeDefined();
        const sets = replica.getChangesSince(newSiteId(), undefined, { batchSize: Number.MAX_SAFE_INTEGER });
        const served = servedFromChangeSets(db!, sets.map(wire) as { changes: WireChange[] }[]);
        check(ledger, db!, served, `${file} opened directly`);
      } finally {
        replica.close();
      }
    }
    return ledger;
  } finally {
    await server?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('crash safety', () => {
  afterAll(() => console.log(`crash-safety seed ${SEED} (replay with SYNCORD_CRASH_SEED=${SEED})`));

  it(`keeps every acknowledged write across ${LANES * KILLS_PER_LANE} SIGKILLs during applies`, async () => {
    console.log(`crash-safety seed ${SEED}`);
    const ledgers = await Promise.all(Array.from({ length: LANES }, (_, lane) => runLane(lane)));
    console.log(
      'crash-safety lanes:',
      ledgers.map((l) => ({
        ackedApplies: l.ackedApplies,
        unackedApplies: l.unackedApplies,
        ackedRows: l.acked.size,
        killsMidApply: l.killsMidApply,
      })),
    );
    for (const ledger of ledgers) {
      // The kills must land among writes, acknowledged and in flight, or the test proves nothing.
      expect(ledger.ackedApplies).toBeGreaterThan(KILLS_PER_LANE);
      expect(ledger.killsMidApply).toBeGreaterThanOrEqual(KILLS_PER_LANE / 2);
      expect(ledger.serverSites.size).toBe(DATABASES.length);
    }
  }, 110_000);
});
