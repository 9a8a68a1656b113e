import type {
  Catalogue,
  Check,
  CommandReported,
  DataOf,
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  GateApprovalReply,
  GateApprovalRequest,
  GateCheckReply,
  GateCheckRequest,
  HeartbeatReported,
  IncidentReported,
  IngestKind,
  KpiReported,
  OutcomeReported,
  EngineReconcileRequest,
  ReleaseRequest,
  ReservationReply,
  ReserveReply,
  ReserveRequest,
  SandboxTrialReported,
  SettleRequest,
} from '@bifrost/contracts';

/**
 * Where the client stands with Bifrost. `failed`: it gave up connecting (`maxReconnectAttempts`)
 * and will not try again; only `closed` follows.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/** Any structured logger (pino, console, winston…); the SDK logs nothing without one. */
export interface SdkLogger {
  debug?(message: string, fields?: Record<string, unknown>): void;
  info?(message: string, fields?: Record<string, unknown>): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
  error?(message: string, fields?: Record<string, unknown>): void;
}

/** Options of `createClient`. Exactly one of `natsUrl` and `gatewayUrl`. */
export interface ClientOptions {
  /** NATS server(s), comma-separated: `nats://127.0.0.1:4222`. */
  readonly natsUrl?: string;
  /** API gateway origin, `scheme://host[:port]`: `https://bifrost.example.com` (the SDK appends `/api/v1/engine/…`). */
  readonly gatewayUrl?: string;
  /** This engine's id (letters, digits, `-`, `_`; at most 64). */
  readonly engineId: string;
  /** Engine API key, sent as `X-Api-Key`; required with `gatewayUrl`. */
  readonly apiKey?: string;
  /** Bifrost namespace (`BIFROST_NAMESPACE` of the stack); NATS only (refused with `gatewayUrl`). Default: none. */
  readonly namespace?: string;
  /** How long a decision (`check`, `reserve`) may take before it fails closed. Default 2000 ms. */
  readonly deadlineMs?: number;
  /** Heartbeat period while connected (one more on each connect); 0: no heartbeats. Default 10 000 ms. */
  readonly heartbeatIntervalMs?: number;
  /**
   * How many times to retry, with backoff, after a failed connection attempt before giving up
   * (state `failed`); counted afresh for each outage. Default: no limit.
   */
  readonly maxReconnectAttempts?: number;
  /**
   * How many sessions the engine has open, asked at every heartbeat and sent as `activeSessions`.
   * A throw or anything but a non-negative integer leaves the field out (and is logged).
   */
  readonly activeSessions?: () => number;
  /** Telemetry buffer: at most `maxItems` facts wait for delivery (default 10 000). */
  readonly buffer?: { readonly maxItems?: number };
  readonly logger?: SdkLogger;
  /** Message catalogue the facts are checked against. Default: the one of @bifrost/contracts. */
  readonly catalogue?: Catalogue;
}

/** Per-call options of decisions. */
export interface DecisionOptions {
  /**
   * Overrides the client's `deadlineMs` for this call: a positive number of ms up to 2³¹−1, a
   * fraction rounded up; anything else is ignored in favour of the client's.
   */
  readonly deadlineMs?: number;
}

export type CheckRequest = Omit<GateCheckRequest, 'engineId'>;
export type ApprovalInput = Omit<GateApprovalRequest, 'engineId'>;
/** Where an approval request stands (`pending`, `granted`, `rejected`, `expired`), with its token once granted. */
export type ApprovalReply = GateApprovalReply;

/** Options of `awaitApproval`; values out of range reject with `SDK.INVALID_REQUEST`. */
export interface AwaitApprovalOptions {
  /** How long to wait for a decision (a positive number of ms); the answer is still `pending` when it passes. */
  readonly timeoutMs: number;
  /** Time between two asks: 100 ms to 2³¹−1 ms. Default 1000 ms. */
  readonly pollMs?: number;
  /** Stops waiting (an engine shutting down): the last answer is returned, as on a timeout. */
  readonly signal?: AbortSignal;
}
export type ReserveInput = Omit<ReserveRequest, 'engineId'>;
export type SettleInput = Omit<SettleRequest, 'engineId'>;
export type ReleaseInput = Omit<ReleaseRequest, 'engineId'>;
/** An engine reconciles as itself (an `actor` is an operator's, on the operator's route). */
export type ReconcileInput = Omit<EngineReconcileRequest, 'engineId'>;
/** The data of each fact an engine reports, minus `engineId` (the client fills it in). */
export type OutcomeInput = Omit<DataOf<typeof OutcomeReported>, 'engineId'>;
export type KpiInput = Omit<DataOf<typeof KpiReported>, 'engineId'>;
export type CommandInput = Omit<DataOf<typeof CommandReported>, 'engineId'>;
export type IncidentInput = Omit<DataOf<typeof IncidentReported>, 'engineId'>;
export type SandboxTrialInput = Omit<DataOf<typeof SandboxTrialReported>, 'engineId'>;
export type HeartbeatInput = Omit<DataOf<typeof HeartbeatReported>, 'engineId'>;

/** The gate's verdict, as it answered, with the request's `requestId` when it had one. */
export type GateVerdict = GateCheckReply & { readonly failClosed: false; readonly requestId?: string };

/**
 * What `check()` returns when Bifrost could not decide: no answer within the deadline, transport
 * down, service unavailable, an error reply, or an invalid request. Always BLOCK.
 */
export interface FailClosedVerdict {
  readonly failClosed: true;
  readonly action: 'BLOCK';
  readonly sizeMultiplier: 0;
  /** Why, for humans. */
  readonly reason: string;
  /** Why, for code: an `SDK.*` code or the remote error code (e.g. `RPC.VALIDATION_FAILED`). */
  readonly code: string;
  readonly engineId: string;
  readonly strategyId: string;
  readonly requestId?: string;
  /** When the SDK gave up (engine clock). */
  readonly decidedAt: string;
  /** One check named `sdk.failClosed`, so code that explains verdicts works unchanged. */
  readonly checks: [Check];
}

export type CheckVerdict = GateVerdict | FailClosedVerdict;

export type ReservationDecision = ReserveReply & { readonly failClosed: false };

/** What `reserve()` returns when the risk guard could not decide: a denial, never a grant. */
export interface ReservationUnavailable {
  readonly failClosed: true;
  readonly outcome: 'DENIED';
  readonly reason: 'UNAVAILABLE';
  readonly code: string;
  readonly message: string;
  readonly engineId: string;
  readonly idempotencyKey: string;
  readonly decidedAt: string;
}

export type ReserveResult = ReservationDecision | ReservationUnavailable;

export type EvaluateInput = Omit<EvaluateRecommendationRequest, 'engineId'>;

/** Heimdall's evaluation, as it answered. */
export type RecommendationEvaluation = EvaluateRecommendationReply & { readonly failClosed: false };

/**
 * What `evaluateRecommendation()` returns when Heimdall could not evaluate: no answer within the
 * deadline, transport down, service unavailable, an error reply, or an invalid request. Always
 * NOT_ELIGIBLE: the recommendation does not reach production.
 */
export interface EvaluationUnavailable {
  readonly failClosed: true;
  readonly outcome: 'NOT_ELIGIBLE';
  readonly eligible: false;
  readonly action: 'BLOCK';
  readonly reason: string;
  /** An `SDK.*` code or the remote error code (e.g. `RPC.VALIDATION_FAILED`). */
  readonly code: string;
  readonly engineId: string;
  readonly domain: string;
  readonly recommendationId?: string;
  readonly decidedAt: string;
  /** One gate named `sdk.failClosed`, so code that explains evaluations works unchanged. */
  readonly gates: [Check & { readonly result: 'FAIL' }];
}

export type EvaluationResult = RecommendationEvaluation | EvaluationUnavailable;
export type { ReservationReply };

/** A fact accepted into the buffer: its envelope id doubles as the JetStream dedupe id. */
export interface RecordedFact {
  readonly id: string;
  readonly kind: IngestKind;
  readonly occurredAt: string;
}

export interface FlushedEvent extends RecordedFact {
  /** Stream sequence of the stored fact (NATS: JetStream ack; HTTP: the gateway's `sequence`). */
  readonly sequence?: number;
  /** Facts still waiting after this one. */
  readonly bufferDepth: number;
}

export interface DroppedEvent extends RecordedFact {
  /** `overflow`: evicted from a full buffer; `rejected`: refused for good by the gateway (4xx). */
  readonly reason: 'overflow' | 'rejected';
  readonly droppedCount: number;
}

export interface ClientEvents {
  state: (state: ConnectionState) => void;
  flushed: (event: FlushedEvent) => void;
  dropped: (event: DroppedEvent) => void;
}
