// Child process of the connections scenario: opens `count` sockets, handshakes each on one of the
// given databases, keeps them idle until told to close. Separate processes keep the client side's
// file descriptors and memory out of the parent, and let the load span more than one core.
// Protocol over IPC: parent → {cmd:'connect', url, databases, count, concurrency, timeoutMs}
// → child {type:'connected', ok, failed, errors, cpuS} (connect may come again: sockets add up;
// cpuS is this process's CPU seconds so far); parent → {cmd:'close'} → child {type:'closed'}.
import WebSocket from 'ws';
import { encodeSiteId, newSiteId, PROTOCOL_VERSION } from '@syncord/core';

const sockets = [];

function connectOne(url, databaseId, timeoutMs) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const finish = (error) => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      if (error) ws.terminate();
      else ws.on('message', () => {}); // idle: later messages are drained and dropped
      resolve(error);
    };
    const timer = setTimeout(() => finish('handshake timed out'), timeoutMs);
    ws.on('error', (err) => finish(err.message));
    ws.once('open', () => {
      ws.send(
        JSON.stringify({
          type: 'handshake',
          databaseId,
          siteId: encodeSiteId(newSiteId()),
          protocolVersion: PROTOCOL_VERSION,
        }),
      );
    });
    ws.once('message', (data) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return finish('reply is not JSON');
      }
      finish(msg.type === 'handshake_ack' ? undefined : `${msg.type} ${msg.code ?? ''} ${msg.message ?? ''}`);
    });
    sockets.push(ws);
  });
}

async function connectAll({ url, databases, count, concurrency, timeoutMs }) {
  let next = 0;
  let ok = 0;
  const errors = new Map();
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const error = await connectOne(url, databases[i % databases.length], timeoutMs);
      if (error === undefined) ok++;
      else errors.set(error, (errors.get(error) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  const cpu = process.cpuUsage();
  return {
    type: 'connected',
    ok,
    failed: count - ok,
    errors: [...errors].slice(0, 5),
    cpuS: (cpu.user + cpu.system) / 1e6,
  };
}

async function closeAll() {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', resolve);
          const timer = setTimeout(() => ws.terminate(), 5_000);
          ws.once('close', () => clearTimeout(timer));
          ws.close();
        }),
    ),
  );
}

process.on('message', async (msg) => {
  if (msg.cmd === 'connect') process.send(await connectAll(msg));
  if (msg.cmd === 'close') {
    await closeAll();
    process.send({ type: 'closed' }, () => process.exit(0));
  }
});
// The parent gone means nobody will say close: leave rather than hold sockets open.
process.on('disconnect', () => process.exit(0));
