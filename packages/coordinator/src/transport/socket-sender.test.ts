// Backpressure on a real socket pair: a paced stream to a client that stops reading waits
// instead of buffering, and an unsolicited send to a hopelessly slow client closes it.
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { SocketSender, TOO_FAR_BEHIND } from './socket-sender.js';

const FRAME = 'x'.repeat(256 * 1024);
const HIGH_WATER = 64 * 1024;

let server: WebSocketServer | undefined;
let client: WebSocket | undefined;
afterEach(async () => {
  client?.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = client = undefined;
});

async function pair(): Promise<{ serverSide: WebSocket; clientSide: WebSocket; tcp: Socket }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server = wss;
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  const accepted = new Promise<{ socket: WebSocket; tcp: Socket }>((resolve) =>
    wss.once('connection', (socket, request) => {
      socket.on('error', () => {});
      resolve({ socket, tcp: request.socket });
    }),
  );
  const clientSide = new WebSocket(`ws://127.0.0.1:${port}`);
  client = clientSide;
  // A terminated peer is expected here, not an error worth failing on.
  clientSide.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    clientSide.once('open', () => resolve());
    clientSide.once('error', reject);
  });
  const { socket, tcp } = await accepted;
  return { serverSide: socket, clientSide, tcp };
}

describe('SocketSender', () => {
  it('holds a paced stream at the high-water mark while the client does not read', async () => {
    const { serverSide, clientSide } = await pair();
    let received = 0;
    clientSide.on('message', () => received++);
    clientSide.pause();
    const sender = new SocketSender(serverSide, { highWaterBytes: HIGH_WATER, maxBufferedBytes: 1 << 30 });
    const total = 64; // 16 MiB: more than the kernel buffers of a stalled loopback connection
    let sent = 0;
    const stream = (async () => {
      for (let i = 0; i < total; i++) {
        await sender.sendPaced(FRAME);
        sent++;
      }
    })();
    await expect.poll(() => serverSide.bufferedAmount, { timeout: 5000 }).toBeGreaterThanOrEqual(HIGH_WATER);
    expect(sent).toBeLessThan(total);
    // Bounded: the mark or the one frame being waited on (plus ws framing), never a pile of frames.
    expect(serverSide.bufferedAmount).toBeLessThanOrEqual(Math.max(HIGH_WATER, FRAME.length) + 64);
    clientSide.resume();
    await stream;
    await expect.poll(() => received, { timeout: 5000 }).toBe(total);
  });

  it('sends the frames of one tick in one write, in order, and nothing is held past the tick', async () => {
    const { serverSide, clientSide, tcp } = await pair();
    const received: string[] = [];
    clientSide.on('message', (data: Buffer) => received.push(data.toString()));
    const sender = new SocketSender(serverSide, { highWaterBytes: HIGH_WATER, maxBufferedBytes: 1 << 30 }, tcp);
    for (const text of ['one', 'two', 'three']) sender.send(text);
    // Held by the cork until the tick ends: none of it has reached the kernel yet.
    expect(tcp.writableCorked).toBe(1);
    expect(tcp.writableLength).toBeGreaterThan(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(tcp.writableCorked).toBe(0);
    await expect.poll(() => received, { timeout: 5000 }).toEqual(['one', 'two', 'three']);
    // A later tick corks again and is uncorked again at its end.
    sender.send('four');
    expect(tcp.writableCorked).toBe(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(tcp.writableCorked).toBe(0);
    await expect.poll(() => received.at(-1), { timeout: 5000 }).toBe('four');
  });

  it('closes a client so far behind that even unsolicited sends pile up, and says why', async () => {
    const { serverSide, clientSide } = await pair();
    clientSide.pause();
    const closed = new Promise<number>((resolve) => serverSide.once('close', (code) => resolve(code)));
    const sender = new SocketSender(serverSide, { highWaterBytes: HIGH_WATER, maxBufferedBytes: 4 * FRAME.length });
    let refused: unknown;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      try {
        sender.send(FRAME);
      } catch (err) {
        refused = err;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(String(refused)).toMatch(/too far behind/);
    expect(serverSide.readyState).toBe(WebSocket.CLOSING);
    expect(() => sender.send('late')).toThrow(/not open/);
    clientSide.resume();
    expect(await closed).toBe(TOO_FAR_BEHIND.code);
  });
});
