import {
  compile,
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  GateApprovalReply,
  GateApprovalRequest,
  GateCheckReply,
  GateCheckRequest,
  EngineReconcileRequest,
  ReleaseRequest,
  ReservationReply,
  ReserveReply,
  ReserveRequest,
  SettleRequest,
  tolerant,
  type SchemaIssue,
  type ValidationResult,
} from '@bifrost/contracts';
import type { Operation } from './transport.types';

const reservationReply = compile(tolerant(ReservationReply));

/** A validator that also holds the value to a rule its schema cannot state. */
function holding<T>(
  validate: (value: unknown) => ValidationResult<T>,
  rule: (value: T) => SchemaIssue | undefined,
): (value: unknown) => ValidationResult<T> {
  return (value) => {
    const result = validate(value);
    const issue = result.ok ? rule(result.value) : undefined;
    return issue ? { ok: false, issues: [issue] } : result;
  };
}

/** A granted approval carries the token to present; one without it grants nothing usable. */
const approvalReply = holding(compile(tolerant(GateApprovalReply)), (reply) =>
  reply.status === 'granted' && reply.token === null
    ? { path: '/token', message: 'a granted approval must carry its token' }
    : undefined,
);

/**
 * The request and reply schema of every operation, compiled once (`check()` is a hot path). A request
 * that breaks its schema is not sent; a reply that breaks its schema is no answer: code that acts on
 * a verdict, a reservation or a token must be able to trust every field of it. Replies may carry
 * fields this SDK does not know (a newer Bifrost): those are ignored, so engines upgrade when they like.
 */
export const CONTRACTS = {
  check: { request: compile(GateCheckRequest), reply: compile(tolerant(GateCheckReply)) },
  approval: { request: compile(GateApprovalRequest), reply: approvalReply },
  reserve: { request: compile(ReserveRequest), reply: compile(tolerant(ReserveReply)) },
  settle: { request: compile(SettleRequest), reply: reservationReply },
  release: { request: compile(ReleaseRequest), reply: reservationReply },
  reconcile: { request: compile(EngineReconcileRequest), reply: reservationReply },
  evaluate: {
    request: compile(EvaluateRecommendationRequest),
    reply: compile(tolerant(EvaluateRecommendationReply)),
  },
} satisfies Record<Operation, unknown>;

/** What the service answers to `operation`, as its contract defines it. */
export type ReplyOf<O extends Operation> = (typeof CONTRACTS)[O]['reply'] extends (
  value: unknown,
) => ValidationResult<infer T>
  ? T
  : never;

/** Why there is no answer: an `SDK.*` code or the service's own error code. */
export interface Failure {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
}

/** The outcome of one request: the reply, checked against its contract, or why there is none. */
export type Answer<T> = { readonly ok: true; readonly data: T } | Failure;
