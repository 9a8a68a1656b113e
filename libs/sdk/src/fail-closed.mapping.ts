import type {
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  GateCheckReply,
  GateCheckRequest,
  ReserveReply,
  ReserveRequest,
} from '@bifrost/contracts';
import type { Answer } from './operation.contracts';
import { SDK_ERROR_CODES } from './sdk.errors';
import type {
  CheckVerdict,
  EvaluationResult,
  EvaluationUnavailable,
  FailClosedVerdict,
  ReservationUnavailable,
  ReserveResult,
} from './sdk.types';

type CheckSubject = Pick<GateCheckRequest, 'engineId' | 'strategyId' | 'requestId'> & {
  /** The hash of the action as sent (JCS, SHA-256), which the verdict must carry. */
  readonly actionHash?: string;
};
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

/** The gate's verdict when it answered one, BLOCK otherwise. */
export function toCheckVerdict(
  request: CheckSubject,
  answer: Answer<GateCheckReply>,
  nowMs: number,
): CheckVerdict {
  if (!answer.ok) return failClosedVerdict(request, answer.code, answer.message, nowMs);
  const { engineId, strategyId } = answer.data;
  if (engineId !== request.engineId || strategyId !== request.strategyId) {
    // A verdict for something else is no verdict for this action.
    const reason = `the reply is a verdict for strategy ${strategyId} of engine ${engineId}, not the one asked about`;
    return failClosedVerdict(request, SDK_ERROR_CODES.malformedReply, reason, nowMs);
  }
  if (request.actionHash !== undefined && answer.data.actionHash !== request.actionHash) {
    const reason = `the reply is a verdict for another action (actionHash ${answer.data.actionHash}, not ${request.actionHash})`;
    return failClosedVerdict(request, SDK_ERROR_CODES.malformedReply, reason, nowMs);
  }
  // The request's id on both kinds of verdict, so an engine matches either to its request the same way.
  return {
    ...answer.data,
    ...(request.requestId !== undefined ? { requestId: request.requestId } : {}),
    failClosed: false,
  };
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

/** The risk guard's decision when it answered one, a denial with reason UNAVAILABLE otherwise. */
export function toReserveResult(
  request: ReserveSubject,
  answer: Answer<ReserveReply>,
  nowMs: number,
): ReserveResult {
  if (!answer.ok) return reservationUnavailable(request, answer.code, answer.message, nowMs);
  if (answer.data.engineId !== request.engineId) {
    const message = `the reply is a decision for engine ${answer.data.engineId}, not the one asking`;
    return reservationUnavailable(request, SDK_ERROR_CODES.malformedReply, message, nowMs);
  }
  return { ...answer.data, failClosed: false };
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

/**
 * Heimdall's evaluation when it answered one, NOT_ELIGIBLE otherwise. It must name the engine,
 * domain and recommendation asked about, and `eligible` must agree with `outcome` (the schema
 * cannot say so): a self-contradicting evaluation is no permission.
 */
export function toEvaluationResult(
  request: EvaluationSubject,
  answer: Answer<EvaluateRecommendationReply>,
  nowMs: number,
): EvaluationResult {
  if (!answer.ok) return evaluationUnavailable(request, answer.code, answer.message, nowMs);
  const { engineId, domain, recommendationId } = answer.data;
  if (
    engineId !== request.engineId ||
    domain !== request.domain ||
    recommendationId !== request.recommendationId
  ) {
    // An evaluation of something else is no permission for this recommendation.
    const reason = `the reply is an evaluation of ${domain} recommendation ${recommendationId ?? '(none)'} of engine ${engineId}, not the one asked about`;
    return evaluationUnavailable(request, SDK_ERROR_CODES.malformedReply, reason, nowMs);
  }
  if (answer.data.eligible !== (answer.data.outcome === 'ELIGIBLE')) {
    return evaluationUnavailable(
      request,
      SDK_ERROR_CODES.malformedReply,
      `the Heimdall reply says eligible ${answer.data.eligible} with outcome ${answer.data.outcome}`,
      nowMs,
    );
  }
  return { ...answer.data, failClosed: false };
}
