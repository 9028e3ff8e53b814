// One WebSocket connection as the service sees it: the handshake in the §3.5 order, then
// operations on its session, then exactly one teardown whatever happens (socket closed during the
// handshake, failed handshake, shutdown).
import { randomUUID } from 'node:crypto';
import {
  decodeSiteId,
  describeValue,
  PROTOCOL_VERSION,
  ProtocolError,
  type ChangeSet,
  type ChangesPageJson,
  type HandshakeFields,
  type HLC,
  type SiteId,
  type SnapshotCheckpoint,
} from '@syncord/core';
import { InvalidDatabaseIdError, type StoreContext, type StoreHandle } from '../stores/index.js';
import type { PendingApply } from './apply-changes.js';
import { approveConnect } from './approve-connect.js';
import { authenticate } from './authenticate.js';
import type { ServiceContext } from './context.js';
import { ConnectionClosedError, describeError, LimitExceededError } from './errors.js';
import type { FanoutSubscriber } from './fanout.js';
import { callHook } from './hook-call.js';
import type { Session } from './session.js';
import { openSessionStore, SHUTTING_DOWN_MESSAGE } from './store-open.js';
import type { ApplyOutcome, ClientIdentity } from './types.js';

/** What the service needs from a transport's connection. */
export interface ConnectionSink {
  /** Queues one text message; throws when the socket cannot take it. */
  send(message: string): void;
  /** Closes the socket after what is already queued. */
  close(code: number, reason: string): void;
}

export interface HandshakeAck {
  readonly serverSiteId: SiteId;
  readonly connectionId: string;
  readonly databaseId: string;
  readonly protocolVersion: number;
}

/** The service side a connection calls back into (implemented by CoordinatorService). */
export interface ConnectionHost {
  readonly ctx: ServiceContext;
  readonly accepting: boolean;
  sessionStarted(connection: SyncConnection, session: Session): void;
  sessionEnded(connection: SyncConnection, session: Session): void;
  connectionClosed(connection: SyncConnection): void;
  getChanges(session: Session, sinceHLC?: HLC): Promise<ChangeSet[]>;
  changesStream(
    session: Session,
    sinceHLC: HLC | undefined,
    stopped: () => boolean,
  ): AsyncGenerator<ChangesPageJson, void, undefined>;
  applyChanges(session: Session, changeSets: readonly ChangeSet[]): Promise<ApplyOutcome>;
  startApply(session: Session, changeSets: readonly ChangeSet[]): Promise<PendingApply>;
  /** Chunks as wire text (see snapshotStream). */
  snapshot(session: Session, resume?: SnapshotCheckpoint): AsyncGenerator<string, void, undefined>;
}

type State = 'new' | 'handshaking' | 'ready' | 'closed';

function authFailed(message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('AUTH_FAILED', message, { cause });
}

const NO_TRANSPORT = {};

/** Subscribes itself to its database's broadcasts (no separate subscriber object per connection). */
export class SyncConnection implements FanoutSubscriber {
  readonly connectionId = randomUUID();
  private state: State = 'new';
  private current?: Session;
  private unsubscribe?: () => void;
  /** This connection's place under limits.maxConnectionsPerDatabase, from reservation to teardown. */
  private releaseSlot?: () => void;

  constructor(
    private readonly host: ConnectionHost,
    private readonly sink: ConnectionSink,
    private transport: { readonly request?: unknown; readonly socket?: unknown } = {},
  ) {}

  get session(): Session | undefined {
    return this.current;
  }

  /** FanoutSubscriber: this connection's site; broadcasts it originated are not delivered to it. */
  get siteId(): SiteId {
    // Subscribed only once the session exists, and unsubscribed before it is dropped.
    if (!this.current) throw new Error(`connection ${this.connectionId} has no session`);
    return this.current.identity.siteId;
  }

  /** FanoutSubscriber: one broadcast for this connection's client. */
  deliver(message: string): void {
    this.sink.send(message);
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  async handshake(fields: HandshakeFields): Promise<HandshakeAck> {
    if (fields.protocolVersion !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        'PROTOCOL_VERSION_MISMATCH',
        `Protocol version mismatch: server speaks ${PROTOCOL_VERSION}, client sent ${describeValue(fields.protocolVersion)}`,
      );
    }
    if (this.state !== 'new') throw new ProtocolError('ALREADY_AUTHENTICATED', 'Already authenticated');
    if (!fields.databaseId) throw new ProtocolError('MISSING_DATABASE_ID', 'Missing databaseId');
    if (!this.host.accepting) throw new ProtocolError('STORAGE_UNAVAILABLE', SHUTTING_DOWN_MESSAGE);
    this.state = 'handshaking';
    try {
      return await this.establish(fields);
    } catch (err) {
      if (this.state === 'handshaking') this.state = 'new';
      this.dropSlot();
      if (err instanceof ProtocolError || err instanceof ConnectionClosedError) throw err;
      throw authFailed(describeError(err), err);
    }
  }

  private async establish(fields: HandshakeFields): Promise<HandshakeAck> {
    const { ctx } = this.host;
    if (typeof fields.databaseId !== 'string') throw authFailed('Invalid database ID: not a string');
    const databaseId = fields.databaseId;
    const identity = await this.authenticate(databaseId, fields);
    this.throwIfClosed();
    const storeCtx: StoreContext = { token: fields.token, userId: identity.userId, metadata: identity.metadata };
    try {
      ctx.stores.validateDatabaseId(databaseId, storeCtx);
    } catch (err) {
      if (err instanceof InvalidDatabaseIdError && err.limit)
        ctx.metrics.limitRejectionsTotal.inc({ limit: err.limit });
      throw authFailed(describeError(err), err);
    }
    this.takeSlot(databaseId);
    await approveConnect(ctx, identity, this.transport.socket, databaseId);
    this.throwIfClosed();
    let store: StoreHandle;
    try {
      store = await openSessionStore(ctx, databaseId, storeCtx, this.connectionId);
    } catch (err) {
      if (err instanceof InvalidDatabaseIdError) throw authFailed(describeError(err), err);
      throw err;
    }
    if (this.state === 'closed') {
      store.release();
      throw new ConnectionClosedError();
    }
    const session: Session = {
      connectionId: this.connectionId,
      databaseId,
      identity,
      transport: 'websocket',
      store,
      ...(fields.token !== undefined ? { token: fields.token } : {}),
    };
    this.current = session;
    this.state = 'ready';
    // Only the handshake's auth and hooks read the upgrade request and socket: an idle connection
    // must not keep the request (and its headers) alive.
    this.transport = NO_TRANSPORT;
    this.unsubscribe = ctx.fanout.subscribe(databaseId, this);
    this.host.sessionStarted(this, session);
    return {
      serverSiteId: store.replica.siteId,
      connectionId: this.connectionId,
      databaseId,
      protocolVersion: PROTOCOL_VERSION,
    };
  }

  /** Reserved before the hook and the store open, so a full database costs neither. */
  private takeSlot(databaseId: string): void {
    const { ctx } = this.host;
    const release = ctx.sessionSlots.tryTake(databaseId);
    if (!release) {
      ctx.metrics.limitRejectionsTotal.inc({ limit: 'maxConnectionsPerDatabase' });
      throw new LimitExceededError(
        'TOO_MANY_CONNECTIONS',
        'maxConnectionsPerDatabase',
        `Database ${databaseId} has all the connections it takes (maxConnectionsPerDatabase ${ctx.sessionSlots.limit}); try again later`,
        503,
      );
    }
    this.releaseSlot = release;
  }

  private dropSlot(): void {
    this.releaseSlot?.();
    this.releaseSlot = undefined;
  }

  private async authenticate(databaseId: string, fields: HandshakeFields): Promise<ClientIdentity> {
    const { ctx } = this.host;
    ctx.metrics.authAttemptsTotal.inc();
    try {
      let siteId: SiteId | undefined;
      const siteIdRaw = fields.siteId;
      if (siteIdRaw !== undefined && siteIdRaw !== null) {
        try {
          siteId = decodeSiteId(siteIdRaw);
        } catch (err) {
          throw new Error(`Invalid siteId: ${describeError(err)}`);
        }
      }
      return await authenticate(
        {
          databaseId,
          ...(fields.token !== undefined ? { token: fields.token } : {}),
          ...(siteId && typeof siteIdRaw === 'string' ? { siteId, siteIdRaw } : {}),
          request: this.transport.request,
          socket: this.transport.socket,
        },
        ctx.auth,
      );
    } catch (err) {
      ctx.metrics.authFailuresTotal.inc();
      throw authFailed(describeError(err), err);
    }
  }

  private throwIfClosed(): void {
    if (this.state === 'closed') throw new ConnectionClosedError();
  }

  private requireSession(): Session {
    if (this.state !== 'ready' || !this.current) {
      throw new ProtocolError('NOT_AUTHENTICATED', 'Must handshake first');
    }
    return this.current;
  }

  getChanges(sinceHLC?: HLC): Promise<ChangeSet[]> {
    return this.host.getChanges(this.requireSession(), sinceHLC);
  }

  /** The whole catch-up as pages; it ends quietly at the next page once this connection closes. */
  changesStream(sinceHLC?: HLC): AsyncGenerator<ChangesPageJson, void, undefined> {
    return this.host.changesStream(this.requireSession(), sinceHLC, () => this.state === 'closed');
  }

  applyChanges(changeSets: readonly ChangeSet[]): Promise<ApplyOutcome> {
    return this.host.applyChanges(this.requireSession(), changeSets);
  }

  /** Resolves once the apply is queued for its database's group commit; `done` settles after it. */
  startApply(changeSets: readonly ChangeSet[]): Promise<PendingApply> {
    return this.host.startApply(this.requireSession(), changeSets);
  }

  snapshot(resume?: SnapshotCheckpoint): AsyncGenerator<string, void, undefined> {
    return this.host.snapshot(this.requireSession(), resume);
  }

  /** Throws NOT_AUTHENTICATED unless a session is established (for checks before decoding). */
  assertAuthenticated(): void {
    this.requireSession();
  }

  /** Tears the connection down once: unsubscribes, releases the store, tells the hook. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.dropSlot();
    const session = this.current;
    // Unsubscribed while the session (and so `siteId`) is still there.
    this.unsubscribe?.();
    this.current = undefined;
    if (session) {
      session.store.release();
      this.host.sessionEnded(this, session);
      const hook = this.host.ctx.hooks.onClientDisconnect;
      if (hook) {
        callHook('onClientDisconnect', this.host.ctx.hookTimeoutMs, () => hook(session.identity)).catch(
          (err: unknown) =>
            this.host.ctx.log.error({ err, connectionId: this.connectionId }, 'onClientDisconnect failed'),
        );
      }
    }
    this.host.connectionClosed(this);
  }

  /** Server-initiated close (shutdown): the socket closes, and its close event ends the session. */
  shutdown(code: number, reason: string): void {
    try {
      this.sink.close(code, reason);
    } catch (err) {
      this.host.ctx.log.warn({ err, connectionId: this.connectionId }, 'socket close failed');
    }
  }
}
