// Point-in-time restore (`syncord restore --database ID --at TIME --out DIR`) against a real S3
// server: the state at a moment before any snapshot (batches alone), at a snapshot, and after it.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { encodeSiteId } from '@syncord/core';
import { openSqliteReplica } from '@syncord/core/sqlite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../src/cli/index.js';
import { newSiteId, wire, writeRow } from './support/change-sets.js';
import { s3Settings } from './support/s3-objects.js';
import { startS3Server, type S3TestServer } from './support/s3-server.js';
import { startTestServer, tempDir } from './support/test-server.js';
import { TestClient } from './support/ws-client.js';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server();
}, 30_000);
afterAll(async () => {
  await s3?.stop();
});

const tick = () => new Promise((r) => setTimeout(r, 15));

it('restores the database as it was at the chosen moment', async () => {
  const server = await startTestServer({ config: { s3: s3Settings(s3, 'pitr/') } });
  const id = 'acme:pitr';
  const out = tempDir();
  const socket = await TestClient.open(server.ws);
  try {
    const site = newSiteId();
    const ack = await socket.handshake({ databaseId: id, siteId: encodeSiteId(site) });
    let n = 0;
    const set = async (title: string) => {
      n++;
      socket.send({
        type: 'apply_changes',
        requestId: `a${n}`,
        changes: [wire(writeRow(site, 'notes', [1], { title }, { counter: n }))],
      });
      await socket.next('apply_result');
      expect(await server.server.service.durability!.flushAll(5000)).toBe(true);
      await tick();
      const at = Date.now();
      await tick();
      return at;
    };
    const atA = await set('a');
    await set('b');
    await server.server.service.durability!.snapshotNow(id);
    await tick();
    const atB = Date.now();
    await tick();
    const atC = await set('c');
    await set('d');

    const env = { ...s3.env };
    const restoreAt = async (at: number | undefined, dir: string) => {
      let stdout = '';
      let stderr = '';
      const args = [
        'restore',
        '--database',
        id,
        '--out',
        dir,
        '--s3-key-prefix',
        'pitr/',
        ...(at ? ['--at', new Date(at).toISOString()] : []),
      ];
      const code = await runCli(args, env, {
        output: { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) },
        cwd: out,
      });
      return { code, stdout, stderr };
    };
    const titleIn = (file: string) => {
      const replica = openSqliteReplica(file);
      try {
        return { title: replica.readRow('main', 'notes', [1])?.get('title'), siteId: encodeSiteId(replica.siteId) };
      } finally {
        replica.close();
      }
    };
    const cases: [number | undefined, string, string][] = [
      [atA, 'a', 'batches only'],
      [atB, 'b', 'the snapshot'],
      [atC, 'c', 'the snapshot and a later batch'],
      [undefined, 'd', 'now'],
    ];
    for (const [at, title, what] of cases) {
      const dir = path.join(out, title);
      const result = await restoreAt(at, dir);
      expect(result.code, `${what}: ${result.stderr}`).toBe(0);
      const report = JSON.parse(result.stdout) as { file: string; base: string | null; serverSiteId: string };
      expect(report.base === null, what).toBe(title === 'a');
      expect(titleIn(report.file), what).toEqual({ title, siteId: ack.serverSiteId });
    }

    // The target must not exist; nothing before the first batch; a bad time is a usage error.
    expect((await restoreAt(atA, path.join(out, 'a'))).code).toBe(2);
    expect((await restoreAt(atA - 60_000, path.join(out, 'none'))).code).toBe(1);
    const bad = await runCli(['restore', '--database', id, '--out', out, '--at', 'yesterday'], env, {
      output: { stdout: () => undefined, stderr: () => undefined },
      cwd: out,
    });
    expect(bad).toBe(2);
  } finally {
    await socket.close();
    await server.stop();
    rmSync(out, { recursive: true, force: true });
  }
});
