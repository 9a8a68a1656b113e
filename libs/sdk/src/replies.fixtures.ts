import { randomUUID } from 'node:crypto';
import type {
  EvaluateRecommendationReply,
  GateApprovalReply,
  GateCheckReply,
  ReservationReply,
  ReserveReply,
} from '@bifrost/contracts';

/** Replies as the services give them (valid against their contract schemas), for the SDK's specs. */

const AT = '2026-11-21T20:00:00.000Z';
const HASH = 'a'.repeat(64);

export function verdictReply(fields: Partial<GateCheckReply> = {}): GateCheckReply {
  return {
    decisionId: randomUUID(),
    policyRevision: 'rev-1',
    action: 'ALLOW',
    sizeMultiplier: 1,
    riskLevel: 'LOW',
    checks: [],
    mode: 'enforce',
    decidedAt: AT,
    engineId: 'e1',
    strategyId: 's1',
    actionHash: HASH,
    ...fields,
  };
}

export function reserveReply(fields: Partial<ReserveReply> = {}): ReserveReply {
  return {
    reservationId: randomUUID(),
    engineId: 'e1',
    outcome: 'GRANTED',
    status: 'GRANTED',
    maxLoss: { amount: 500, currency: 'EUR' },
    exposure: { amount: 9_000, currency: 'EUR' },
    day: '2026-11-21',
    decidedAt: AT,
    expiresAt: '2026-11-21T20:01:00.000Z',
    replayed: false,
    ...fields,
  };
}

export function reservationReply(fields: Partial<ReservationReply> = {}): ReservationReply {
  return { reservationId: randomUUID(), engineId: 'e1', status: 'SETTLED', ...fields };
}

/** The approval request granted by alice, with the token `tokenId` to present. */
export function grantedApproval(tokenId = 't-1'): GateApprovalReply {
  return approvalReply({
    status: 'granted',
    decidedBy: 'alice',
    token: { tokenId, status: 'active', expiresAt: '2026-11-21T20:15:00.000Z' },
  });
}

export function approvalReply(fields: Partial<GateApprovalReply> = {}): GateApprovalReply {
  return {
    approvalId: 'a-1',
    engineId: 'e1',
    strategyId: 's1',
    status: 'pending',
    actionHash: HASH,
    action: { kind: 'order.place', intent: 'open' },
    requestedBy: 'e1',
    requestedAt: AT,
    expiresAt: '2026-11-21T20:15:00.000Z',
    decidedBy: null,
    token: null,
    ...fields,
  };
}

export function evaluationReply(
  fields: Partial<EvaluateRecommendationReply> = {},
): EvaluateRecommendationReply {
  return {
    evaluationId: randomUUID(),
    engineId: 'e1',
    domain: 'WHOLESALE_OFFER',
    outcome: 'ELIGIBLE',
    eligible: true,
    action: 'ALLOW',
    riskLevel: 'LOW',
    gates: [],
    scorecard: { trials: 3, successes: 3, successRate: 1 },
    policyRevision: 'rev-1',
    decidedAt: AT,
    ...fields,
  };
}
