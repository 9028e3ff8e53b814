// The first exchange of a session: the handshake and its acknowledgement (bounded in time, the
// protocol version checked), then the per-server state the session works with: watermarks, the
// migrations the server is known to hold, and the pusher.
import { PROTOCOL_VERSION, type HandshakeAckMessage, type SiteId } from '@syncord/core';
import { Backoff } from './backoff.js';
import type { Channel } from './channel.js';
import { Pusher } from './pusher.js';
import { ServerMigrations } from './server-migrations.js';
import type { SessionHost } from './session-host.js';
import { SyncError } from './status.js';
import { Watermarks } from './watermarks.js';

export interface Connected {
  readonly serverSiteId: SiteId;
  readonly watermarks: Watermarks;
  readonly pusher: Pusher;
  readonly serverMigrations: ServerMigrations;
}

/** Sends the handshake; resolves with the server's acknowledgement, or rejects (timeout, version). */
export async function handshake(channel: Channel, host: SessionHost): Promise<HandshakeAckMessage> {
  const { db, target, options } = host;
  channel.send({
    type: 'handshake',
    databaseId: target.databaseId,
    siteId: db.siteId,
    ...(target.token !== undefined ? { token: target.token } : {}),
    protocolVersion: PROTOCOL_VERSION,
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new SyncError('HANDSHAKE_TIMEOUT', `No handshake_ack within ${options.handshakeTimeoutMs} ms`)),
      options.handshakeTimeoutMs,
    );
  });
  let ack: HandshakeAckMessage;
  try {
    ack = await Promise.race([channel.handshakeAck(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  if (ack.protocolVersion !== PROTOCOL_VERSION) {
    throw new SyncError(
      'PROTOCOL_VERSION_MISMATCH',
      `Server speaks protocol ${ack.protocolVersion}, this client ${PROTOCOL_VERSION}`,
      true,
    );
  }
  return ack;
}

/** The state of a session against the server that acknowledged the handshake. */
export function connectedTo(
  serverSiteId: SiteId,
  channel: Channel,
  host: SessionHost,
  callbacks: { onError: (err: unknown) => void; onActivity: () => void },
): Connected {
  const { db, options } = host;
  const watermarks = new Watermarks(db.replica, serverSiteId);
  const serverMigrations = new ServerMigrations(db.replica, serverSiteId);
  const pusher = new Pusher(
    db,
    serverSiteId,
    watermarks,
    { apply: (sets) => channel.apply(host.nextRequestId(), sets) },
    {
      batchSize: options.batchSize,
      debounceMs: options.pushDebounceMs,
      onRejected: (r) => host.reportRejected(r),
      onError: callbacks.onError,
      onActivity: callbacks.onActivity,
      onAcknowledged: () => host.writesAcknowledged(),
      retryBackoff: new Backoff(options.retryBackoff),
      serverHolds: (m) => serverMigrations.holds(m),
    },
  );
  return { serverSiteId, watermarks, pusher, serverMigrations };
}
