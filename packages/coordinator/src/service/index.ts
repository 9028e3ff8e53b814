export { CoordinatorService, DEFAULT_HOOK_TIMEOUT_MS } from './coordinator-service.js';
export type { CoordinatorServiceOptions, CoordinatorStatus } from './coordinator-service.js';
export { SyncConnection } from './connection.js';
export type { ConnectionSink, HandshakeAck } from './connection.js';
export type { RequestAuth, RequestSession } from './request-session.js';
export type { Session } from './session.js';
export type { PendingApply } from './apply-changes.js';
export { backlogRequest, dataChangeCount } from './backlog-request.js';
export { GroupCommit } from './group-commit.js';
export { InProcessFanout } from './fanout.js';
export type { Fanout, FanoutReport, FanoutSubscriber } from './fanout.js';
export { TokenWhitelist, AuthenticationError } from './authenticate.js';
export { HookTimeoutError } from './hook-call.js';
export { AccessDeniedError, LimitExceededError, ConnectionClosedError, clientMessage } from './errors.js';
export { resumeProblem } from './snapshot-stream.js';
export type { ResumeProblem, ResumeRefusal } from './snapshot-stream.js';
export { ORIGIN_MISMATCH, checkOrigins, originCheckIsStrict } from './origin-check.js';
export type { OriginVerdict } from './origin-check.js';
export type {
  ClientIdentity,
  AuthContext,
  AuthorizeContext,
  SyncOperation,
  CoordinatorHooks,
  RejectedChangeSet,
  ApprovalDecision,
  ApplyOutcome,
  WireRejection,
} from './types.js';
