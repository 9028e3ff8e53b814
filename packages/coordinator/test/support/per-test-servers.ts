// The per-test lifecycle most socket tests share: each test starts its own server(s) and opens
// clients; after it, the clients end first (closed politely, or their sockets cut for tests that
// leave connections mid-protocol), then the servers stop.
import { afterEach } from 'vitest';
import type { TestServer } from './test-server.js';
import type { TestClient } from './ws-client.js';

export interface PerTestServers {
  /** Push every client a test opens: it is ended after the test. */
  readonly clients: TestClient[];
  /** Registers a server to stop after the test, and returns it. */
  adopt(server: TestServer): TestServer;
}

/** Registers the afterEach that ends this file's clients and servers. */
export function perTestServers(end: 'close' | 'terminate' = 'close'): PerTestServers {
  const clients: TestClient[] = [];
  const servers: TestServer[] = [];
  afterEach(async () => {
    const ending = clients.splice(0);
    if (end === 'close') await Promise.all(ending.map((c) => c.close()));
    else for (const c of ending) c.socket.terminate();
    for (const server of servers.splice(0)) await server.stop();
  });
  return {
    clients,
    adopt(server) {
      servers.push(server);
      return server;
    },
  };
}
