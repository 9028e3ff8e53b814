// Fuzzing (issue 4 item 8): thousands of random and mutated frames and requests — wrong types,
// huge numbers, bad base64, deep JSON, truncated, binary, non-UTF-8 and oversize frames, mutated
// change sets, before and after the handshake — at a live server. Each gets its documented answer
// (PROTOCOL.md §3.4 codes, fatal flags and close codes from ERROR_CODES) within a bound, the data
// of the guarded databases is unchanged, nothing is logged as an unexpected failure, and a normal
// client is served afterwards. Once in process, once against the `syncord` process itself.
// SYNCORD_FUZZ_SEED=<n> replays a run (fast-check prints the seed of a failure).
import { encodeSiteId, newSiteId } from '@syncord/core';
import { createLogger } from '@syncord/coordinator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildServer } from './support/child-server.js';
import { runArb } from './support/fuzz-frames.js';
import type { FuzzTarget } from './support/fuzz-oracle.js';
import { requestArb } from './support/fuzz-requests.js';
import { render } from './support/fuzz-values.js';
import { Fuzzer, MAX_ERROR_MESSAGE, within } from './support/fuzzer.js';
import { dump, openSocket, seed, serveNormalClient, type Endpoint } from './support/guarded-data.js';
import { startTestServer, type TestServer } from './support/test-server.js';

const SEED = process.env['SYNCORD_FUZZ_SEED'] === undefined ? undefined : Number(process.env['SYNCORD_FUZZ_SEED']);
const WS_RUNS = 600;
const HTTP_RUNS = 400;
const CHILD_RUNS = 100;
const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_BODY_BYTES = 256 * 1024;
const TARGET: FuzzTarget = {
  guarded: ['fuzz:alpha', 'fuzz.beta'],
  scratch: 'fuzz-scratch',
  maxDatabaseIdLength: 64,
  maxMessageBytes: MAX_MESSAGE_BYTES,
};
const READER = encodeSiteId(newSiteId());

/** What hostile frames must reach: §3.4 codes (the others need hooks, limits or failing stores), replies, closes. */
const WS_ANSWERS = [
  ...['PROTOCOL_VERSION_MISMATCH', 'ALREADY_AUTHENTICATED', 'MISSING_DATABASE_ID', 'AUTH_FAILED'],
  ...['NOT_AUTHENTICATED', 'GET_CHANGES_ERROR', 'APPLY_CHANGES_ERROR', 'SNAPSHOT_ERROR'],
  ...['UNKNOWN_MESSAGE', 'MESSAGE_ERROR'],
]
  .map((code) => `error:${code}`)
  .concat(['pong', 'handshake_ack', 'changes', 'apply_result', 'snapshot', 'close:1009', 'close:1007']);
/** What hostile requests must reach (PROTOCOL.md §4 order: body, databaseId, auth, operation). */
const HTTP_ANSWERS = [
  ...['200 ok', '400 INVALID_BODY', '413 INVALID_BODY', '415 INVALID_BODY'],
  ...['400 INVALID_DATABASE_ID', '401 AUTH_FAILED', '400 GET_CHANGES_FAILED'],
].map((answer) => `http:${answer}`);

const runs = (numRuns: number) => ({ numRuns, ...(SEED === undefined ? {} : { seed: SEED }) });

function fuzzFrames(fuzzer: Fuzzer, numRuns: number): Promise<void> {
  return fc.assert(
    fc.asyncProperty(runArb(TARGET), (frames) => fuzzer.runFrames(frames)),
    runs(numRuns),
  );
}

function expectReached(fuzzer: Fuzzer, answers: readonly string[]): void {
  for (const answer of answers) {
    expect(
      fuzzer.count(answer),
      `nothing got ${answer}: ${JSON.stringify(Object.fromEntries(fuzzer.seen))}`,
    ).toBeGreaterThan(0);
  }
}

describe('fuzzing a live server', () => {
  let srv: TestServer;
  let fuzzer: Fuzzer;
  const logLines: string[] = [];

  beforeAll(async () => {
    srv = await startTestServer({
      config: { limits: { maxMessageBytes: MAX_MESSAGE_BYTES, maxBodyBytes: MAX_BODY_BYTES, maxDatabaseIdLength: 64 } },
      logger: createLogger('warn', { write: (line: string) => void logLines.push(line) }),
    });
    fuzzer = new Fuzzer(srv, TARGET, MAX_BODY_BYTES);
    await seed(srv, TARGET.guarded);
  });
  afterAll(async () => {
    await srv?.stop();
    if (fuzzer)
      console.log(`fuzz: ${fuzzer.frames} frames, ${fuzzer.requests} requests`, Object.fromEntries(fuzzer.seen));
  });

  it('answers every hostile WebSocket frame as documented, and keeps the guarded data', async () => {
    const before = await dump(srv, TARGET.guarded, READER);
    await fuzzFrames(fuzzer, WS_RUNS);
    expect(await dump(srv, TARGET.guarded, READER)).toEqual(before);
    expectReached(fuzzer, WS_ANSWERS);
    await serveNormalClient(srv, 'after-ws-fuzz');
  }, 60_000);

  it('answers every hostile HTTP request as documented, and keeps the guarded data', async () => {
    const before = await dump(srv, TARGET.guarded, READER);
    await fc.assert(
      fc.asyncProperty(requestArb(TARGET, MAX_BODY_BYTES), (req) => fuzzer.runRequest(req)),
      runs(HTTP_RUNS),
    );
    expect(await dump(srv, TARGET.guarded, READER)).toEqual(before);
    expectReached(fuzzer, HTTP_ANSWERS);
    await serveNormalClient(srv, 'after-http-fuzz');
  }, 60_000);

  it('logged no unexpected failure (only refusals)', () => {
    type Line = { level: string; msg: string; err?: { message?: string; stack?: string } };
    const bad = logLines
      .map((line) => JSON.parse(line) as Line)
      .filter((l) => l.level === 'error' || l.level === 'fatal' || l.msg === 'message failed');
    expect(bad).toEqual([]);
  });

  // A deep protocolVersion once overflowed the stack (answered AUTH_FAILED) and a long one was
  // echoed whole: the message must describe the value, not JSON.stringify it.
  it('answers a deep or long protocolVersion with a short PROTOCOL_VERSION_MISMATCH', async () => {
    for (const version of ['@@deep-array@@', 'v'.repeat(100_000)]) {
      const c = await openSocket(srv);
      c.send(render({ type: 'handshake', protocolVersion: version, databaseId: TARGET.guarded[0], siteId: READER }));
      const reply = await c.next('error');
      expect(reply).toMatchObject({ code: 'PROTOCOL_VERSION_MISMATCH', fatal: true });
      expect(String(reply.message).length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE);
      expect((await within(c.closed, 'close')).code).toBe(4003);
    }
  });
});

describe('fuzzing the syncord process', () => {
  it('survives hostile frames, keeps the guarded data and still serves a normal client', async () => {
    const child = await startChildServer({
      args: [
        ...['--max-message-bytes', String(MAX_MESSAGE_BYTES), '--max-body-bytes', String(MAX_BODY_BYTES)],
        ...['--max-database-id-length', String(TARGET.maxDatabaseIdLength)],
      ],
    });
    try {
      const ep: Endpoint = child;
      await seed(ep, TARGET.guarded);
      const before = await dump(ep, TARGET.guarded, READER);
      await fuzzFrames(new Fuzzer(ep, TARGET, MAX_BODY_BYTES), CHILD_RUNS);
      expect(child.alive, child.output()).toBe(true);
      expect(await dump(ep, TARGET.guarded, READER)).toEqual(before);
      await serveNormalClient(ep, 'after-child-fuzz');
      expect((await child.stop()).code, child.output()).toBe(0);
    } finally {
      await child.kill();
      child.cleanup();
    }
  }, 60_000);
});
