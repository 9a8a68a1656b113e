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

const reservationNames = ['engineId', 'reservationId'] as const;

/**
 * The request and reply schema of every operation, compiled once (`check()` is a hot path). A request
 * that breaks its schema is not sent; a reply that breaks its schema is no answer: code that acts on
 * a verdict, a reservation or a token must be able to trust every field of it. Replies may carry
 * fields this SDK does not know (a newer Bifrost): those are ignored, so engines upgrade when they like.
 * `names`: the request's fields a command's reply names again, which must be the ones asked about
 * (a cached or mixed-up reply to another request is no answer to this one); the decisions hold
 * their replies to what was asked in their fail-closed mapping.
 */
export const CONTRACTS = {
  check: { request: compile(GateCheckRequest), reply: compile(tolerant(GateCheckReply)) },
  approval: {
    request: compile(GateApprovalRequest),
    reply: approvalReply,
    names: ['engineId', 'strategyId', 'approvalId'] as const,
  },
  reserve: { request: compile(ReserveRequest), reply: compile(tolerant(ReserveReply)) },
  settle: { request: compile(SettleRequest), reply: reservationReply, names: reservationNames },
  release: { request: compile(ReleaseRequest), reply: reservationReply, names: reservationNames },
  reconcile: { request: compile(EngineReconcileRequest), reply: reservationReply, names: reservationNames },
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

/** Why a reply names another request than `request` (one of `names` differs), or undefined. */
export function otherRequest(
  operation: Operation,
  names: readonly string[],
  request: Record<string, unknown>,
  reply: unknown,
): string | undefined {
  const named = reply as Record<string, unknown>;
  const field = names.find((name) => named[name] !== request[name]);
  if (field === undefined) return undefined;
  return `the ${operation} reply names ${field} ${JSON.stringify(named[field])}, not ${JSON.stringify(request[field])} as asked`;
}
