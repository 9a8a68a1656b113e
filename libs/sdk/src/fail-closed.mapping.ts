import {
  EVALUATION_OUTCOMES,
  VERDICT_ACTIONS,
  type EvaluateRecommendationRequest,
  type GateCheckRequest,
  type ReserveRequest,
} from '@bifrost/contracts';
import { SDK_ERROR_CODES } from './sdk.errors';
import type {
  CheckVerdict,
  EvaluationResult,
  EvaluationUnavailable,
  FailClosedVerdict,
  ReservationUnavailable,
  ReserveResult,
} from './sdk.types';
import type { TransportReply } from './transport.types';

type CheckSubject = Pick<GateCheckRequest, 'engineId' | 'strategyId' | 'requestId'>;
type ReserveSubject = Pick<ReserveRequest, 'engineId' | 'idempotencyKey'>;

/** BLOCK, explained: what an engine gets when Bifrost could not decide. */
export function failClosedVerdict(
  request: CheckSubject,
  code: string,
  reason: string,
  nowMs: number,
): FailClosedVerdict {
  return {
    failClosed: true,
    action: 'BLOCK',
    sizeMultiplier: 0,
    reason,
    code,
    engineId: request.engineId,
    strategyId: request.strategyId,
    ...(request.requestId !== undefined ? { requestId: request.requestId } : {}),
    decidedAt: new Date(nowMs).toISOString(),
    checks: [
      {
        name: 'sdk.failClosed',
        outcome: 'BLOCK',
        value: code,
        threshold: null,
        distanceToTrip: null,
        reason,
      },
    ],
  };
}

/** The gate's reply when it is one, BLOCK otherwise: an unreadable verdict is no permission. */
export function toCheckVerdict(request: CheckSubject, reply: TransportReply, nowMs: number): CheckVerdict {
  if (!reply.ok) return failClosedVerdict(request, reply.code, reply.message, nowMs);
  const data = reply.data as Record<string, unknown> | null;
  const readable =
    typeof data === 'object' &&
    data !== null &&
    (VERDICT_ACTIONS as readonly unknown[]).includes(data['action']) &&
    typeof data['sizeMultiplier'] === 'number';
  if (!readable) {
    return failClosedVerdict(
      request,
      SDK_ERROR_CODES.malformedReply,
      'the gate reply is not a verdict',
      nowMs,
    );
  }
  return { ...(data as object), failClosed: false } as CheckVerdict;
}

/** A denial with reason UNAVAILABLE: what an engine gets when the risk guard could not decide. */
export function reservationUnavailable(
  request: ReserveSubject,
  code: string,
  message: string,
  nowMs: number,
): ReservationUnavailable {
  return {
    failClosed: true,
    outcome: 'DENIED',
    reason: 'UNAVAILABLE',
    code,
    message,
    engineId: request.engineId,
    idempotencyKey: request.idempotencyKey,
    decidedAt: new Date(nowMs).toISOString(),
  };
}

export function toReserveResult(
  request: ReserveSubject,
  reply: TransportReply,
  nowMs: number,
): ReserveResult {
  if (!reply.ok) return reservationUnavailable(request, reply.code, reply.message, nowMs);
  const data = reply.data as Record<string, unknown> | null;
  const readable =
    typeof data === 'object' &&
    data !== null &&
    (data['outcome'] === 'GRANTED' || data['outcome'] === 'DENIED') &&
    typeof data['reservationId'] === 'string';
  if (!readable) {
    return reservationUnavailable(
      request,
      SDK_ERROR_CODES.malformedReply,
      'the risk guard reply is not a reservation decision',
      nowMs,
    );
  }
  return { ...(data as object), failClosed: false } as ReserveResult;
}

type EvaluationSubject = Pick<EvaluateRecommendationRequest, 'engineId' | 'domain' | 'recommendationId'>;

/** NOT_ELIGIBLE, explained: what an engine gets when Heimdall could not evaluate. */
export function evaluationUnavailable(
  request: EvaluationSubject,
  code: string,
  reason: string,
  nowMs: number,
): EvaluationUnavailable {
  return {
    failClosed: true,
    outcome: 'NOT_ELIGIBLE',
    eligible: false,
    action: 'BLOCK',
    reason,
    code,
    engineId: request.engineId,
    domain: request.domain,
    ...(request.recommendationId !== undefined ? { recommendationId: request.recommendationId } : {}),
    decidedAt: new Date(nowMs).toISOString(),
    gates: [
      {
        name: 'sdk.failClosed',
        outcome: 'BLOCK',
        result: 'FAIL',
        value: code,
        threshold: null,
        distanceToTrip: null,
        reason,
      },
    ],
  };
}

/** Heimdall's reply when it is one, NOT_ELIGIBLE otherwise: an unreadable evaluation is no permission. */
export function toEvaluationResult(
  request: EvaluationSubject,
  reply: TransportReply,
  nowMs: number,
): EvaluationResult {
  if (!reply.ok) return evaluationUnavailable(request, reply.code, reply.message, nowMs);
  const data = reply.data as Record<string, unknown> | null;
  const readable =
    typeof data === 'object' &&
    data !== null &&
    (EVALUATION_OUTCOMES as readonly unknown[]).includes(data['outcome']) &&
    data['eligible'] === (data['outcome'] === 'ELIGIBLE') &&
    typeof data['evaluationId'] === 'string';
  if (!readable) {
    return evaluationUnavailable(
      request,
      SDK_ERROR_CODES.malformedReply,
      'the Heimdall reply is not an evaluation',
      nowMs,
    );
  }
  return { ...(data as object), failClosed: false } as EvaluationResult;
}
