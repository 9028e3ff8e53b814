// A real `ws` server on 127.0.0.1 port 0 that plays the coordinator's part, message by message,
// as a test scripts it. It exists for the wire behaviours the coordinator of this branch does not
// have yet (a catch-up served as pages with `more`, request_changes naming the server's own site,
// errors echoing a requestId, a server that closes with 1013 after the handshake); the coordinator
// change lands in another branch. The handshake is answered like the coordinator does.
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodeServerMessage, newSiteId, PROTOCOL_VERSION, type ServerMessage, type SiteId } from '@syncord/core';

export type ClientJson = Record<string, unknown> & { type: string };

export class ScriptedConnection {
  /** Every message after the handshake, in arrival order. */
  readonly received: ClientJson[] = [];

  constructor(readonly socket: WebSocket) {}

  send(msg: ServerMessage): void {
    this.socket.send(encodeServerMessage(msg));
  }

  /** Raw JSON, for fields the encoder does not know. */
  sendRaw(msg: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(msg));
  }

  count(type: string): number {
    return this.received.filter((m) => m.type === type).length;
  }
}

export class ScriptedServer {
  readonly siteId: SiteId = newSiteId();
  readonly connections: ScriptedConnection[] = [];
  private readonly wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });

  /** `onMessage` answers every client message after the handshake (or not: that is the script). */
  constructor(private readonly onMessage: (conn: ScriptedConnection, msg: ClientJson) => void) {
    this.wss.on('connection', (socket) => {
      const conn = new ScriptedConnection(socket);
      this.connections.push(conn);
      socket.on('message', (data) => {
        const msg = JSON.parse(String(data)) as ClientJson;
        if (msg.type === 'handshake') {
          conn.send({ type: 'handshake_ack', serverSiteId: this.siteId, protocolVersion: PROTOCOL_VERSION });
          return;
        }
        if (msg.type === 'ping') return conn.send({ type: 'pong' });
        conn.received.push(msg);
        this.onMessage(conn, msg);
      });
    });
  }

  async start(): Promise<string> {
    if (!this.wss.address()) await new Promise<void>((resolve) => this.wss.once('listening', resolve));
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/sync/ws`;
  }

  /** All messages of `type` across connections. */
  count(type: string): number {
    return this.connections.reduce((n, c) => n + c.count(type), 0);
  }

  stop(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}
