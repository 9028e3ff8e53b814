// The physical floor for the WebSocket scenarios: `ws` alone on an http.Server, speaking just
// enough v1 for the load generators (handshake, apply_changes relayed as push_changes, ping) with
// no storage, no validation and one JSON.parse plus one stringify per relayed message. Whatever
// the coordinator costs above this is ours to explain. Usage: node bare-relay-server.mjs <port>
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2]);
const SERVER_SITE_ID = 'CgsMDQ4PQBCAkKCwwNDg8A';
const rooms = new Map(); // databaseId → Set of sockets

const server = http.createServer((req, res) => {
  const ok = req.method === 'GET' && req.url === '/sync/status';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(ok ? '{"ok":true,"data":{}}' : '{"ok":false}');
});
const wss = new WebSocketServer({ server, path: '/sync/ws', perMessageDeflate: false });

wss.on('connection', (ws) => {
  let session;
  let counted = 0;
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    switch (msg.type) {
      case 'handshake': {
        session = { databaseId: msg.databaseId, siteId: msg.siteId };
        let room = rooms.get(msg.databaseId);
        if (!room) rooms.set(msg.databaseId, (room = new Set()));
        room.add(ws);
        ws.session = session;
        const ack = {
          type: 'handshake_ack',
          databaseId: msg.databaseId,
          serverSiteId: SERVER_SITE_ID,
          connectionId: randomUUID(),
          protocolVersion: 1,
        };
        ws.send(JSON.stringify(ack));
        break;
      }
      case 'apply_changes': {
        const push = JSON.stringify({ type: 'push_changes', changeSets: msg.changes });
        for (const peer of rooms.get(session?.databaseId) ?? []) {
          if (peer !== ws && peer.session.siteId !== session.siteId) peer.send(push);
        }
        const applied = msg.changes.reduce((n, cs) => n + cs.changes.length, 0);
        const result = { type: 'apply_result', requestId: msg.requestId, applied, skipped: 0, conflicts: 0 };
        ws.send(JSON.stringify({ ...result, transactions: msg.changes.length }));
        break;
      }
      case 'count':
        counted++;
        break;
      case 'count_done':
        ws.send(JSON.stringify({ type: 'counted', n: counted }));
        counted = 0;
        break;
      case 'get_changes':
        ws.send('{"type":"changes","changeSets":[]}');
        break;
      case 'ping':
        ws.send('{"type":"pong"}');
        break;
    }
  });
  ws.on('close', () => {
    const room = rooms.get(session?.databaseId);
    room?.delete(ws);
    if (room?.size === 0) rooms.delete(session.databaseId);
  });
});

server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => {
  for (const ws of wss.clients) ws.terminate();
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
