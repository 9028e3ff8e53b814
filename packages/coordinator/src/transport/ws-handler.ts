// The WebSocket adapter (PROTOCOL.md §3): decode each text frame with the core codecs, hand it to
// the service connection, encode the reply. Frames of one socket are handled in arrival order.
import {
  decodeApplyChanges,
  decodeGetChanges,
  decodeHandshake,
  decodeResumeSnapshot,
  encodeChangesJson,
  encodeSnapshotChunkJson,
  encodeServerMessage,
  ERROR_CODES,
  errorMessage,
  parseMessage,
  ProtocolError,
  WireError,
  type ErrorCode,
  type ErrorCodeInfo,
  type RequestId,
  type ServerMessage,
  type ChangeSet,
  type SnapshotCheckpoint,
} from '@syncord/core';
import type { FastifyBaseLogger } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import {
  backlogRequest,
  ConnectionClosedError,
  type ConnectionSink,
  type CoordinatorService,
  type SyncConnection,
} from '../service/index.js';
import { dropAnswer, RATE_DROP_CLOSE, requestIdOf } from './dropped-message.js';
import { wsFailure } from './error-mapping.js';
import type { Heartbeat } from './heartbeat.js';
import { sendPaced } from './paced-stream.js';
import { MessageRateLimiter } from './rate-limiter.js';
import { SerialQueue, type SerialQueueEvents } from './serial-queue.js';
import {
  SocketNotOpenError,
  SocketSender,
  TooFarBehindError,
  type Corkable,
  type SocketSenderOptions,
} from './socket-sender.js';

export const SHUTDOWN_CLOSE = { code: 1001, reason: 'Server shutting down' } as const;
/** A socket that has not completed a handshake within limits.handshakeTimeoutMs. */
export const HANDSHAKE_TIMEOUT_CLOSE = { code: 4008, reason: 'Handshake timeout' } as const;
/** A socket `messageBurst` messages over its message rate (1008 "Policy Violation"). */
export const RATE_EXCEEDED_CLOSE = { code: 1008, reason: 'Message rate exceeded' } as const;
/** Queued frames of one socket at which it is paused until the queue drains. */
const QUEUE_HIGH_WATER = 32;
/** `replies` of a connection with no apply waiting (shared: it is already settled). */
const NO_REPLIES: Promise<void> = Promise.resolve();

function frameText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** Where a socket logs: the server's logger, each line tagged with the upgrade's request id. */
export interface SocketLog {
  readonly logger: FastifyBaseLogger;
  readonly reqId: string;
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

// An idle connection should cost its socket and the state below, nothing more: the socket's
// listeners are shared functions that find their session here (per-socket closures, a child
// logger and option objects were about 2 KB of each idle connection's heap).
const sessions = new WeakMap<WebSocket, SocketSession>();

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  sessions.get(this)?.onMessage(data, isBinary);
}

/** Errors before the session exists (or of a refused socket) go to `fallback`. */
export function socketErrorListener(fallback: (error: Error, socket: WebSocket) => void) {
  return function onSocketError(this: WebSocket, error: Error): void {
    const session = sessions.get(this);
    if (session) session.onSocketError(error);
    else fallback(error, this);
  };
}

function onSocketClose(this: WebSocket, code: number): void {
  sessions.get(this)?.onClose(code);
}

class SocketSession implements ConnectionSink, SerialQueueEvents {
  private readonly sender: SocketSender;
  private readonly connection: SyncConnection;
  private readonly queue: SerialQueue;
  private readonly limiter: MessageRateLimiter;
  private readonly logger: FastifyBaseLogger;
  private readonly reqId: string;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Replies of applies waiting for their group commit, in arrival order. An apply only holds the
   * message queue until it is queued for commit, so the next applies of this socket can join the
   * same commit; anything else first waits for these, so replies keep their order and a read
   * sees this connection's earlier applies.
   */
  private replies: Promise<void> = NO_REPLIES;
  private pendingApplies = 0;

  /** Throws TOO_MANY_CONNECTIONS when the server is at limits.maxConnections. */
  constructor(
    private readonly service: CoordinatorService,
    private readonly socket: WebSocket,
    request: unknown,
    log: SocketLog,
    senderOptions: SocketSenderOptions,
    tcp?: Corkable,
  ) {
    const { limits } = service.config;
    this.logger = log.logger;
    this.reqId = log.reqId;
    this.sender = new SocketSender(socket, senderOptions, tcp);
    this.connection = service.connect(this, { request, socket });
    this.queue = new SerialQueue(QUEUE_HIGH_WATER, this);
    this.limiter = new MessageRateLimiter(limits.messageRatePerSecond, limits.messageBurst);
    this.handshakeTimer = setTimeout(() => this.onHandshakeTimeout(), limits.handshakeTimeoutMs);
    sessions.set(socket, this);
    socket.on('message', onSocketMessage);
    socket.on('close', onSocketClose);
  }

  /** ConnectionSink: replies and broadcasts from the service. */
  send(text: string): void {
    this.sender.send(text);
  }

  /** ConnectionSink: the service closes the socket (shutdown). */
  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  onBusy(): void {
    this.socket.pause();
  }

  onIdle(): void {
    this.socket.resume();
  }

  onError(err: unknown): void {
    this.log('error', { err }, 'message handling failed');
  }

  /** An oversized frame (ws has already started closing with 1009) or a broken socket. */
  onSocketError(error: Error): void {
    if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.service.metrics.limitRejectionsTotal.inc({ limit: 'maxMessageBytes' });
    }
    this.log('warn', { err: error }, 'websocket error');
    if (this.socket.readyState === this.socket.OPEN) this.socket.terminate();
  }

  onClose(code: number): void {
    sessions.delete(this.socket);
    clearTimeout(this.handshakeTimer);
    this.queue.stop();
    this.connection.close();
    this.log('debug', { code }, 'websocket closed');
  }

  private log(level: LogLevel, fields: Record<string, unknown>, message: string): void {
    this.logger[level]({ reqId: this.reqId, ...fields }, message);
  }

  onMessage(data: RawData, isBinary: boolean): void {
    // Frames still arriving while the socket closes are not worth an answer (or a count).
    if (!this.sender.isOpen) return;
    const decision = this.limiter.take();
    if (decision === 'accept') {
      this.queue.push(() => this.onFrame(data, isBinary));
      return;
    }
    const { messageRatePerSecond, messageBurst } = this.service.config.limits;
    this.service.metrics.limitRejectionsTotal.inc({ limit: 'messageRatePerSecond' });
    const limit = `messageRatePerSecond ${messageRatePerSecond}, messageBurst ${messageBurst}`;
    if (decision === 'drop') {
      // Queued, so the error keeps its place among the replies to earlier messages.
      this.queue.push(async () => {
        await this.replies;
        const answer = dropAnswer(isBinary ? undefined : frameText(data));
        this.sendError('RATE_LIMITED', `Message rate exceeded (${limit}); message dropped`, answer.requestId);
        if (!answer.close) return;
        this.queue.stop();
        if (this.sender.isOpen) this.socket.close(RATE_DROP_CLOSE.code, RATE_DROP_CLOSE.reason);
      });
      return;
    }
    this.queue.stop();
    this.sendError('RATE_LIMITED', `Message rate exceeded (${limit}); closing`);
    if (this.sender.isOpen) this.socket.close(RATE_EXCEEDED_CLOSE.code, RATE_EXCEEDED_CLOSE.reason);
  }

  private onHandshakeTimeout(): void {
    this.handshakeTimer = undefined;
    if (this.connection.session || !this.sender.isOpen) return;
    this.service.metrics.limitRejectionsTotal.inc({ limit: 'handshakeTimeoutMs' });
    this.log('info', {}, 'no handshake in time: closing');
    this.socket.close(HANDSHAKE_TIMEOUT_CLOSE.code, HANDSHAKE_TIMEOUT_CLOSE.reason);
  }

  private async onFrame(data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary) {
      await this.replies;
      this.sendError('MESSAGE_ERROR', 'Binary frames are not supported; send JSON text frames');
      return;
    }
    let parsed: ReturnType<typeof parseMessage>;
    try {
      parsed = parseMessage(frameText(data));
    } catch (err) {
      await this.replies;
      this.fail(err, 'MESSAGE_ERROR');
      return;
    }
    const { type, raw } = parsed;
    const code = OPERATION_CODE[type];
    // Every failure of an apply echoes its requestId, so the client can match it to the request.
    const requestId = type === 'apply_changes' ? requestIdOf(raw) : undefined;
    if (type !== 'apply_changes') await this.replies;
    try {
      switch (type) {
        case 'ping':
          return this.reply({ type: 'pong' });
        case 'handshake': {
          const ack = await this.connection.handshake(decodeHandshake(raw));
          clearTimeout(this.handshakeTimer);
          this.handshakeTimer = undefined; // a cleared Timeout still costs its object while referenced
          this.log('info', { connectionId: ack.connectionId, databaseId: ack.databaseId }, 'handshake accepted');
          return this.reply({ type: 'handshake_ack', ...ack });
        }
        case 'get_changes': {
          this.connection.assertAuthenticated();
          const { sinceHLC } = decodeGetChanges(raw);
          // `more: true` on every page but the last, which says `more: false`, so a client that
          // knows the field stops asking (docs/protocol.md §12).
          await sendPaced(this.connection.changesStream(sinceHLC), this.sender, (page) =>
            encodeChangesJson(page.changeSetsJson, page.more),
          );
          return;
        }
        case 'apply_changes': {
          this.connection.assertAuthenticated();
          const { changeSets } = decodeApplyChanges(raw);
          if (this.pendingApplies >= QUEUE_HIGH_WATER) await this.replies;
          const pending = await this.connection.startApply(changeSets);
          this.pendingApplies++;
          this.replies = this.replies
            .then(() => pending.done)
            .then(
              (outcome) => {
                this.reply({ type: 'apply_result', ...(requestId !== undefined ? { requestId } : {}), ...outcome });
                this.askForBacklog(changeSets);
              },
              (err: unknown) => this.fail(err, 'APPLY_CHANGES_ERROR', requestId),
            )
            .catch((err: unknown) => this.log('error', { err }, 'apply reply failed'))
            .finally(() => {
              // All answered: forget the chain, so an idle connection holds no promise of its own.
              if (--this.pendingApplies === 0) this.replies = NO_REPLIES;
            });
          return;
        }
        case 'get_snapshot':
          this.connection.assertAuthenticated();
          return await this.streamSnapshot();
        case 'resume_snapshot': {
          this.connection.assertAuthenticated();
          return await this.streamSnapshot(decodeResumeSnapshot(raw).checkpoint);
        }
        default:
          this.sendError('UNKNOWN_MESSAGE', `Unknown message type: ${JSON.stringify(type.slice(0, 64))}`);
      }
    } catch (err) {
      await this.replies;
      this.fail(err, code ?? 'MESSAGE_ERROR', requestId);
    }
  }

  /** A page this large may not be the client's last: ask for the next one (PROTOCOL.md §3.6). */
  private askForBacklog(changeSets: readonly ChangeSet[]): void {
    const session = this.connection.session;
    if (!session) return;
    const request = backlogRequest(session, changeSets, this.service.config.sync.backlogRequestMinChanges);
    if (request) this.reply(request);
  }

  private async streamSnapshot(resume?: SnapshotCheckpoint): Promise<void> {
    // Leaving the loop early returns the engine's iterator, which ends its read transaction.
    const sent = await sendPaced(this.connection.snapshot(resume), this.sender, encodeSnapshotChunkJson);
    if (sent) this.reply({ type: 'snapshot_complete' });
  }

  /** Replies count against maxBufferedBytes too: a client that asks but never reads is closed. */
  private reply(message: ServerMessage): void {
    if (!this.sender.isOpen) return;
    const text = encodeServerMessage(message);
    try {
      this.sender.send(text);
    } catch (err) {
      if (!(err instanceof TooFarBehindError)) throw err;
    }
  }

  private fail(err: unknown, fallback: ErrorCode, requestId?: RequestId): void {
    if (err instanceof ConnectionClosedError || err instanceof SocketNotOpenError || err instanceof TooFarBehindError)
      return;
    const failure = wsFailure(err, fallback);
    if (err instanceof ProtocolError || err instanceof WireError)
      this.log('debug', { code: failure.code, message: failure.message }, 'request refused');
    else this.log('warn', { err, code: failure.code }, 'message failed');
    this.sendError(failure.code, failure.message, requestId);
  }

  /** Sends the error (fatal flag from the catalog) and closes the socket when the catalog says so. */
  private sendError(code: ErrorCode, message: string, requestId?: RequestId): void {
    this.service.metrics.errorsTotal.inc({ code });
    this.reply({ ...errorMessage(code, message), ...(requestId !== undefined ? { requestId } : {}) });
    const { close }: ErrorCodeInfo = ERROR_CODES[code];
    if (close && this.sender.isOpen) this.socket.close(close.code, close.reason);
  }
}

/** The error code of each operation, used for any failure inside its handler. */
const OPERATION_CODE: Readonly<Record<string, ErrorCode>> = {
  handshake: 'AUTH_FAILED',
  get_changes: 'GET_CHANGES_ERROR',
  apply_changes: 'APPLY_CHANGES_ERROR',
  get_snapshot: 'SNAPSHOT_ERROR',
  resume_snapshot: 'SNAPSHOT_ERROR',
};

export interface WsHandlerOptions {
  readonly sender: SocketSenderOptions;
  readonly heartbeat: Heartbeat;
  /** The upgraded TCP socket, so frames of one tick leave in one write. */
  readonly tcp?: Corkable;
}

/**
 * Attaches a new socket to the service; refuses it with 1001 once shutdown has begun, and with
 * TOO_MANY_CONNECTIONS (then 1013) at limits.maxConnections.
 */
export function handleWebSocket(
  service: CoordinatorService,
  socket: WebSocket,
  request: unknown,
  log: SocketLog,
  options: WsHandlerOptions,
): void {
  if (!service.accepting) {
    socket.close(SHUTDOWN_CLOSE.code, SHUTDOWN_CLOSE.reason);
    return;
  }
  try {
    new SocketSession(service, socket, request, log, options.sender, options.tcp);
  } catch (err) {
    const failure = wsFailure(err, 'MESSAGE_ERROR');
    log.logger.warn({ reqId: log.reqId, code: failure.code, message: failure.message }, 'websocket refused');
    service.metrics.errorsTotal.inc({ code: failure.code });
    socket.send(encodeServerMessage(errorMessage(failure.code, failure.message)));
    const info: ErrorCodeInfo = ERROR_CODES[failure.code];
    const close = info.close ?? { code: 1011, reason: 'Internal error' };
    socket.close(close.code, close.reason);
    return;
  }
  options.heartbeat.watch(socket);
}
