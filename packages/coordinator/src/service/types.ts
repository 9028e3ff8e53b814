// The hook and identity surface of the coordinator (PROTOCOL.md §6.7). Transport objects are
// typed `unknown` here because the service never imports Fastify or ws; on WebSocket `request` is
// the upgrade FastifyRequest and `socket` the ws WebSocket, on HTTP `request` is the FastifyRequest.
import type { ApplyResult, ChangeSet, HLC, SiteId } from '@syncord/core';

export interface ClientIdentity {
  /** Drives the echo filter and the broadcast exclusion (not the handshake's claimed id). */
  readonly siteId: SiteId;
  readonly userId?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface AuthContext {
  readonly databaseId: string;
  readonly token?: string;
  /** The decoded claimed site id, when the client sent a valid one. */
  readonly siteId?: SiteId;
  readonly siteIdRaw?: string;
  readonly request?: unknown;
  readonly socket?: unknown;
}

export type SyncOperation =
  | { readonly type: 'get_changes'; readonly sinceHLC?: HLC }
  | { readonly type: 'apply_changes'; readonly changeCount: number }
  | { readonly type: 'get_snapshot' }
  | { readonly type: 'resume_snapshot' };

/** Where an operation runs: onAuthorize's third argument. */
export interface AuthorizeContext {
  readonly databaseId: string;
  readonly transport: 'websocket' | 'http';
}

export interface RejectedChangeSet {
  readonly change: ChangeSet;
  readonly reason: string;
  readonly code?: string;
  readonly table?: string;
  readonly column?: string;
}

export interface ApprovalDecision {
  readonly approved: readonly ChangeSet[];
  readonly rejected: readonly RejectedChangeSet[];
}

/** Every hook is optional; each call is bounded by the service's hookTimeoutMs. */
export interface CoordinatorHooks {
  /** Its identity is final; throw to reject the client. */
  onAuthenticate?(ctx: AuthContext): Promise<ClientIdentity> | ClientIdentity;
  /** Runs on every operation of either transport; anything but true answers "Not authorized" (HTTP 403). */
  onAuthorize?(client: ClientIdentity, op: SyncOperation, ctx: AuthorizeContext): Promise<boolean> | boolean;
  /** Rejected sets are not applied and are reported in `apply_result.rejected`. */
  onBeforeApplyChanges?(
    client: ClientIdentity,
    changes: readonly ChangeSet[],
  ): Promise<ApprovalDecision> | ApprovalDecision;
  /** Not awaited; errors are logged. */
  onAfterApplyChanges?(client: ClientIdentity, changes: readonly ChangeSet[], result: ApplyResult): unknown;
  /**
   * Each WebSocket handshake and each HTTP request (`socket` undefined), before the database is
   * opened; false rejects with AUTH_FAILED "Connection rejected" (HTTP 403).
   */
  onClientConnect?(client: ClientIdentity, socket: unknown, databaseId: string): Promise<boolean> | boolean;
  /** WebSocket only (an HTTP request has no lasting session); runs once per registered session when it ends. */
  onClientDisconnect?(client: ClientIdentity): unknown;
}

/** One rejection as it travels in `apply_result.rejected` (table and column are not sent). */
export interface WireRejection {
  readonly reason: string;
  readonly code?: string;
}

/** What an apply answers: the engine's counts plus the hook's rejections, if any. */
export interface ApplyOutcome extends ApplyResult {
  rejected?: WireRejection[];
}
