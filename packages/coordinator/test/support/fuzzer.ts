// Drives fuzz input at one live server and checks every answer against the oracles: frames
// pipelined on a socket (answers in order, error codes, fatal flags and close codes from the
// ERROR_CODES catalog, short error messages, all within a bound) and HTTP requests (status and
// code). It counts the answers seen, so a test can demand that every path was reached.
import { ERROR_CODES, type ErrorCodeInfo } from '@syncord/core';
import { expect } from 'vitest';
import {
  expectReply,
  describeFrame,
  type Expectation,
  type Frame,
  type FuzzTarget,
  type SocketState,
} from './fuzz-oracle.js';
import { expectHttp, type FuzzRequest } from './fuzz-requests.js';
import { join, openSocket, type Endpoint } from './guarded-data.js';
import type { CloseInfo, TestClient } from './ws-client.js';

/** Every answer must come within this bound. */
export const BOUND_MS = 5_000;
/** An error echoes at most a bounded part of the input. */
export const MAX_ERROR_MESSAGE = 2048;

export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${BOUND_MS} ms: ${what}`)), BOUND_MS);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const CATALOG: Readonly<Record<string, ErrorCodeInfo>> = ERROR_CODES;

export class Fuzzer {
  /** Answers seen: `error:<code>`, a reply type, `close:<code>`, `http:<status> <code|ok>`. */
  readonly seen = new Map<string, number>();
  frames = 0;
  requests = 0;

  constructor(
    private readonly ep: Endpoint,
    private readonly target: FuzzTarget,
    private readonly maxBodyBytes: number,
  ) {}

  count(answer: string): number {
    return this.seen.get(answer) ?? 0;
  }

  private note(answer: string): void {
    this.seen.set(answer, this.count(answer) + 1);
  }

  private send(c: TestClient, frame: Frame): void {
    if (frame.kind === 'text') c.socket.send(frame.text);
    else if (frame.kind === 'binary') c.socket.send(frame.bytes, { binary: true });
    else if (frame.kind === 'invalid-utf8') c.socket.send(Buffer.from(frame.bytes), { binary: false });
    else c.socket.send('x'.repeat(this.target.maxMessageBytes + frame.extra));
  }

  /** Reads one answer and checks it; true when the socket closed after it, as the catalog says. */
  private async checkAnswer(c: TestClient, expected: Expectation, what: string): Promise<boolean> {
    const { accept } = expected;
    let m = await c.next();
    while (m.type === 'push_changes') m = await c.next();
    if (m.type === 'error') {
      const code = String(m.code);
      const message = String(m.message);
      this.note(`error:${code}`);
      expect(accept, `${what}\n→ error ${code}: ${message.slice(0, 300)}`).toContain(`error:${code}`);
      expect(m.fatal, `${what}\n→ fatal flag of ${code}`).toBe(CATALOG[code]?.fatal);
      expect(typeof m.message).toBe('string');
      expect(message.length, `${what}\n→ ${code} message: ${message.slice(0, 200)}`).toBeLessThanOrEqual(
        MAX_ERROR_MESSAGE,
      );
      const close = CATALOG[code]?.close?.code;
      if (close === undefined) return false;
      expect((await within(c.closed, `close after ${code}`)).code, `${what}\n→ close after ${code}`).toBe(close);
      return true;
    }
    this.note(m.type === 'snapshot_chunk' ? 'snapshot' : m.type);
    if (m.type === 'snapshot_chunk') {
      expect(accept, `${what}\n→ a snapshot`).toContain('snapshot');
      while (m.type !== 'snapshot_complete') {
        m = await c.next();
        expect(['snapshot_chunk', 'snapshot_complete'], `${what}\n→ inside a snapshot`).toContain(m.type);
      }
      return false;
    }
    expect(accept, `${what}\n→ ${JSON.stringify(m).slice(0, 300)}`).toContain(m.type);
    return false;
  }

  /** Sends the frames pipelined on one socket and checks every answer, in order, against the oracle. */
  async runFrames(frames: readonly Frame[]): Promise<void> {
    const c = await openSocket(this.ep);
    let scratch: TestClient | undefined;
    let state: SocketState = { phase: 'new' };
    const pending: { expected: Expectation; what: string }[] = [];
    const flush = async (): Promise<boolean> => {
      for (const p of pending.splice(0)) if (await this.checkAnswer(c, p.expected, p.what)) return true;
      return false;
    };
    try {
      for (const frame of frames) {
        const { expect: expected, next } = expectReply(frame, state, this.target);
        const what = describeFrame(frame);
        this.frames++;
        if (expected.divert) {
          scratch ??= await join(this.ep, this.target.scratch);
          this.send(scratch, frame);
          await this.checkAnswer(scratch, expected, `${what} (diverted to the scratch database)`);
          continue;
        }
        if (expected.closeWithoutReply !== undefined) {
          // A transport-level close may overtake answers still queued, so those are read first.
          if (await flush()) return;
          this.send(c, frame);
          const closed: CloseInfo = await within(c.closed, what);
          this.note(`close:${closed.code}`);
          expect(closed.code, what).toBe(expected.closeWithoutReply);
          return;
        }
        this.send(c, frame);
        pending.push({ expected, what });
        state = next;
        const only = expected.accept.length === 1 ? expected.accept[0]! : '';
        if (only.startsWith('error:') && CATALOG[only.slice('error:'.length)]?.close) break;
      }
      if (await flush()) return;
      // Still open and still answering, in order.
      const before = await c.drain();
      expect(before.filter((m) => m.type !== 'push_changes')).toEqual([]);
    } finally {
      c.socket.terminate();
      scratch?.socket.terminate();
    }
  }

  async runRequest(req: FuzzRequest): Promise<void> {
    const expected = expectHttp(req, this.target, this.maxBodyBytes);
    const db = expected.divert ? this.target.scratch : req.databaseId;
    const query =
      req.method === 'GET' && req.route === 'changes' && req.sinceHLC !== undefined
        ? `?sinceHLC=${encodeURIComponent(req.sinceHLC)}`
        : '';
    const url = `${this.ep.http}/${encodeURIComponent(db)}/${req.route}${query}`;
    const headers: Record<string, string> = {};
    if (req.siteId !== undefined) headers['x-site-id'] = req.siteId;
    if (req.contentType !== undefined) headers['content-type'] = req.contentType;
    const what = `${req.method} ${url.slice(0, 200)} ${JSON.stringify(headers)} ${(req.body ?? '').slice(0, 200)}`;
    this.requests++;
    const res = await fetch(url, {
      method: req.method,
      headers,
      ...(req.method === 'POST' ? { body: req.body ?? '' } : {}),
      signal: AbortSignal.timeout(BOUND_MS),
    });
    const text = await res.text();
    let got: string;
    if (res.status === 200 && req.route === 'snapshot') {
      const lines = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type?: string });
      expect(lines.at(-1)?.type, what).toBe('footer');
      got = '200 ok';
    } else {
      const body = JSON.parse(text) as { ok: boolean; error?: { code: string } };
      got = body.ok ? `${res.status} ok` : `${res.status} ${body.error?.code}`;
    }
    this.note(`http:${got}`);
    expect(expected.accept, `${what}\n→ ${got}: ${text.slice(0, 300)}`).toContain(got);
  }
}
