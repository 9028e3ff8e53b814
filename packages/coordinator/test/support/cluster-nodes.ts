// A Syncord cluster for the end-to-end tests: `syncord` child processes (the real CLI) joined by a
// real NATS deployment, each node with its own data dir, any of which a test can SIGKILL, restart
// (same data dir, or wiped) or stop. Reads go through a raw protocol client on a node.
import { rmSync } from 'node:fs';
import { encodeSiteId, newSiteId, type SiteId } from '@syncord/core';
import { startChildServer, type ChildServer } from './child-server.js';
import { TestClient, type ServerJson } from './ws-client.js';

export interface ClusterNode {
  readonly name: string;
  server: ChildServer;
}

export interface TestCluster {
  readonly nodes: ClusterNode[];
  /** Kills (SIGKILL) or stops the node's process and starts it again on its data dir. */
  restart(node: ClusterNode, how: 'kill' | 'stop', options?: { wipe?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

export async function startCluster(
  natsUrls: string,
  size: number,
  replicas: number,
  /** More flags for every node (S3 settings, for one). */
  extraArgs: readonly string[] = [],
): Promise<TestCluster> {
  const prefix = `e2e_${Math.random().toString(36).slice(2, 10)}`;
  const argsOf = (name: string): string[] => [
    '--nats-url',
    natsUrls,
    '--cluster-replicas',
    String(replicas),
    '--cluster-subject-prefix',
    prefix,
    '--node-name',
    name,
    '--cluster-ack-timeout-ms',
    '5000',
    ...extraArgs,
  ];
  const nodes: ClusterNode[] = [];
  for (let i = 1; i <= size; i++) {
    const name = `node${i}`;
    nodes.push({ name, server: await startChildServer({ args: argsOf(name) }) });
  }
  return {
    nodes,
    async restart(node, how, options = {}) {
      const { dataDir } = node.server;
      if (how === 'kill') await node.server.kill('SIGKILL');
      else await node.server.stop();
      if (options.wipe) rmSync(dataDir, { recursive: true, force: true });
      node.server = await startChildServer({ dataDir, args: argsOf(node.name) });
    },
    async stop() {
      for (const node of nodes) {
        if (node.server.alive) await node.server.stop();
        rmSync(node.server.dataDir, { recursive: true, force: true });
      }
    },
  };
}

/** A node as the read helpers need it: a child process here, or an in-process test server. */
export interface ReachableNode {
  readonly name: string;
  readonly server: { readonly ws: string };
}

/** A raw client handshaken on `node`'s database. */
export async function joinNode(
  node: ReachableNode,
  databaseId: string,
  site: SiteId = newSiteId(),
): Promise<{ client: TestClient; ack: ServerJson }> {
  const client = await TestClient.open(node.server.ws);
  const ack = await client.handshake({ databaseId, siteId: encodeSiteId(site) });
  if (ack.type !== 'handshake_ack') {
    await client.close();
    throw new Error(`handshake refused by ${node.name}: ${JSON.stringify(ack)}`);
  }
  return { client, ack };
}

/** Every change set `node` serves `site` (a new one by default) from `sinceHLC` (all pages of one get_changes). */
export async function readAll(
  node: ReachableNode,
  databaseId: string,
  sinceHLC?: string,
  site: SiteId = newSiteId(),
): Promise<ServerJson[]> {
  const { client } = await joinNode(node, databaseId, site);
  try {
    client.send({ type: 'get_changes', requestId: 'all', ...(sinceHLC ? { sinceHLC } : {}) });
    const sets: ServerJson[] = [];
    for (;;) {
      const page = await client.next('changes');
      sets.push(...(page['changeSets'] as ServerJson[]));
      if (page['more'] !== true) return sets;
    }
  } finally {
    await client.close();
  }
}

/** The value each (table, pk, column) ends with under last-writer-wins, from change sets in any order. */
export function cellsOf(sets: readonly ServerJson[]): Map<string, unknown> {
  const newest = new Map<string, { hlc: string; value: unknown }>();
  for (const set of sets) {
    for (const change of set['changes'] as ServerJson[]) {
      if (change['type'] !== 'column') continue;
      const key = JSON.stringify([change['table'], change['pk'], change['column']]);
      const hlc = String(change['hlc']);
      const seen = newest.get(key);
      if (!seen || compareWireHlc(hlc, seen.hlc) > 0) newest.set(key, { hlc, value: change['value'] });
    }
  }
  return new Map([...newest].map(([k, v]) => [k, v.value]));
}

/** Wire HLCs are base64 of big-endian bytes: comparing the decoded bytes is HLC order. */
function compareWireHlc(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'base64'), Buffer.from(b, 'base64'));
}

/** The status `/readyz` answers on the server whose API base (`…/sync`) is `httpBase`. */
export async function readyStatus(httpBase: string): Promise<number> {
  return (await fetch(`${httpBase.replace(/\/sync$/, '')}/readyz`)).status;
}

/** Polls `check` until it holds or `timeoutMs` passes; a check that throws counts as not yet. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
