// A minimal v1 WebSocket client (PROTOCOL.md §3) for load generation: text frames of JSON, a
// handshake, and request/response matching. Messages are parsed only while someone waits for one,
// so a subscriber that only counts raw pushes costs the load generator as little as possible.
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '@syncord/core';

export class WireError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
}

export class WireClient {
  #ws;
  #waiters = new Set();
  #rawWaiters = new Set();
  #rawHandlers = [];
  #closed;

  constructor(ws) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) => ws.once('close', resolve));
    ws.on('message', (data, isBinary) => this.#onMessage(isBinary ? data : data.toString()));
    ws.on('close', (code, reason) => this.#failAll(new WireError(`socket closed (${code} ${reason})`, 'CLOSED')));
    ws.on('error', (err) => this.#failAll(err));
  }

  /** Opens a socket; rejects on error or after `timeoutMs`. */
  static open(url, timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`connect to ${url} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(new WireClient(ws));
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get isOpen() {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Bytes queued in the socket and not yet written (for senders that must not outrun it). */
  get bufferedAmount() {
    return this.#ws.bufferedAmount;
  }

  /** Sends an object (stringified here) or an already encoded JSON string. */
  send(message) {
    this.#ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** `handler(raw: string)` sees every message before any waiter. */
  onRaw(handler) {
    this.#rawHandlers.push(handler);
  }

  /**
   * Resolves with the first message for which `match(msg)` is true. An `error` message rejects
   * every waiter: v1 errors carry no request id, so the load run cannot tell whose it was.
   */
  waitFor(match, timeoutMs, what) {
    return this.#wait(this.#waiters, match, timeoutMs, what);
  }

  #wait(waiters, match, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve, reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new WireError(`no ${what} within ${timeoutMs} ms`, 'TIMEOUT'));
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  /**
   * Sends `message` and resolves with the first frame text `match(raw)` accepts, without parsing
   * it: for replies so large that the load generator's JSON.parse would bound the figure. Error
   * frames still reject it.
   */
  requestRaw(message, match, timeoutMs, what) {
    const reply = this.#wait(this.#rawWaiters, match, timeoutMs, what);
    this.send(message);
    return reply;
  }

  /** Sends `message` and waits for the reply `match` accepts. */
  request(message, match, timeoutMs, what) {
    const reply = this.waitFor(match, timeoutMs, what);
    this.send(message);
    return reply;
  }

  /** v1 handshake; resolves with the handshake_ack. */
  handshake(databaseId, siteId, timeoutMs = 10_000) {
    return this.request(
      { type: 'handshake', databaseId, siteId, protocolVersion: PROTOCOL_VERSION },
      (m) => m.type === 'handshake_ack',
      timeoutMs,
      `handshake_ack for ${databaseId}`,
    );
  }

  /** Closes and resolves once the socket is closed (terminates it if the close handshake stalls). */
  async close(timeoutMs = 5_000) {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    this.#ws.close();
    const timer = setTimeout(() => this.#ws.terminate(), timeoutMs);
    await this.#closed;
    clearTimeout(timer);
  }

  #onMessage(raw) {
    for (const handler of this.#rawHandlers) handler(raw);
    if (this.#rawWaiters.size > 0) {
      if (raw.startsWith('{"type":"error"')) {
        this.#failAll(new WireError(`server error: ${raw.slice(0, 200)}`, 'SERVER_ERROR'));
        return;
      }
      if (this.#settle(this.#rawWaiters, raw)) return;
    }
    if (this.#waiters.size === 0) return;
    let msg;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.#failAll(new WireError(`server sent invalid JSON: ${String(raw).slice(0, 120)}`, 'BAD_JSON'));
      return;
    }
    if (msg.type === 'error') {
      this.#failAll(new WireError(`server error ${msg.code}: ${msg.message}`, msg.code));
      return;
    }
    this.#settle(this.#waiters, msg);
  }

  /** Resolves the first waiter that accepts `value`; false when none does. */
  #settle(waiters, value) {
    for (const waiter of waiters) {
      if (waiter.match(value)) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(value);
        return true;
      }
    }
    return false;
  }

  #failAll(err) {
    for (const waiter of [...this.#waiters, ...this.#rawWaiters]) {
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.#waiters.clear();
    this.#rawWaiters.clear();
  }
}
