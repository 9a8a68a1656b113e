import { VERDICT_ACTIONS, type GateCheckRequest, type ReserveRequest } from '@bifrost/contracts';
import { SDK_ERROR_CODES } from './sdk.errors';
import type { CheckVerdict, FailClosedVerdict, ReservationUnavailable, ReserveResult } from './sdk.types';
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
