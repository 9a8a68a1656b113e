import { Type, type Static } from '@sinclair/typebox';

import { Timestamp } from '../envelope';
import { defineMessage } from '../registry';
import { EntityId, Money } from '../verdict';
import { GateAction } from './gate-check.messages';
import { ApprovalId, literals, object, TokenId } from '../schema';

/**
 * The strategy aggregate of the gate: one per (engine, strategy), on
 * `bifrost.evt.gate.strategy.<engineId>:<strategyId>`. Its events are the maturity ladder, the
 * outcome evidence behind it, pauses, execution tokens and approvals (docs/gate-strategy.md).
 */

/** Maturity ladder, lowest first: L0 shadow, L1 paper, L2 gated, L3 constrained, L4 autonomous. */
export const MATURITY_LEVELS = ['L0', 'L1', 'L2', 'L3', 'L4'] as const;
export type MaturityLevel = (typeof MATURITY_LEVELS)[number];
export const MaturityLevelSchema = literals(MATURITY_LEVELS);

export const DEMOTION_REASONS = ['drawdown', 'loss-streak', 'override'] as const;
export type DemotionReason = (typeof DEMOTION_REASONS)[number];

/** Why a presented execution token cannot be used for an action. */
export const TOKEN_REFUSAL_REASONS = [
  'unknown',
  'revoked',
  'consumed',
  'expired',
  'out-of-scope',
  'over-notional',
  'wrong-hash',
] as const;
export type TokenRefusalReason = (typeof TOKEN_REFUSAL_REASONS)[number];

const ActionHash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'JCS SHA-256 of the action' });
const ActorId = Type.String({ minLength: 1, maxLength: 200 });
const Ratio = Type.Number({ minimum: 0 });

const subject = 'bifrost.evt.gate.strategy.{engineId}:{strategyId}';
const producer = 'gate';
const consumers = ['gate', 'projector'];

export const StrategyRegistered = defineMessage({
  type: 'gate.StrategyRegistered',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'A strategy became known to the gate, at L0 (explicitly, or implicitly on its first check or outcome).',
  data: Type.Object(
    {
      engineId: EntityId,
      strategyId: EntityId,
      level: Type.Literal('L0'),
      /** Equity the drawdown rule measures against; the policy's reference capital when null. */
      capital: Type.Union([Money, Type.Null()]),
      registeredAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const StrategyCapitalSet = defineMessage({
  type: 'gate.StrategyCapitalSet',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'An operator set the capital the drawdown rule of a strategy measures against.',
  data: object({ capital: Money, setBy: ActorId, setAt: Timestamp }),
});

export const OutcomeRecorded = defineMessage({
  type: 'gate.OutcomeRecorded',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'The result of one action of the strategy (negative pnl = loss): evidence for maturity, health and drift.',
  data: Type.Object(
    {
      outcomeId: Type.String({ minLength: 1, maxLength: 200 }),
      pnl: Money,
      /** The level the outcome counts for. */
      level: MaturityLevelSchema,
      recordedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

const PromotionEvidence = Type.Object(
  {
    outcomes: Type.Integer({ minimum: 0 }),
    winRate: Ratio,
    /** Gross wins / gross losses at the level; null = no losses (infinite). */
    profitFactor: Type.Union([Ratio, Type.Null()]),
  },
  { additionalProperties: false },
);

export const MaturityPromoted = defineMessage({
  type: 'gate.MaturityPromoted',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'The strategy earned the next maturity level (one level at a time).',
  data: Type.Object(
    {
      from: MaturityLevelSchema,
      to: MaturityLevelSchema,
      evidence: PromotionEvidence,
      promotedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const MaturityDemoted = defineMessage({
  type: 'gate.MaturityDemoted',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'A drawdown or loss streak beyond its limit dropped the strategy one or more levels.',
  data: Type.Object(
    {
      from: MaturityLevelSchema,
      to: MaturityLevelSchema,
      reason: Type.Union([Type.Literal('drawdown'), Type.Literal('loss-streak')]),
      /** Peak-relative drawdown since the strategy entered `from`, 0..1. */
      drawdown: Ratio,
      lossStreak: Type.Integer({ minimum: 0 }),
      detail: Type.String(),
      demotedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const MaturityOverridden = defineMessage({
  type: 'gate.MaturityOverridden',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'An operator set the maturity level by hand, with a reason.',
  data: Type.Object(
    {
      from: MaturityLevelSchema,
      to: MaturityLevelSchema,
      reason: Type.String({ minLength: 1, maxLength: 1000 }),
      overriddenBy: ActorId,
      overriddenAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const DemotionAcknowledged = defineMessage({
  type: 'gate.DemotionAcknowledged',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'The engine was told of a demotion: a check answered DEMOTE once for it.',
  data: Type.Object(
    {
      from: MaturityLevelSchema,
      to: MaturityLevelSchema,
      demotedAt: Timestamp,
      acknowledgedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const BaselineRegistered = defineMessage({
  type: 'gate.BaselineRegistered',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'The backtest baseline that live performance is compared with for drift.',
  data: Type.Object(
    {
      winRate: Type.Number({ minimum: 0, maximum: 1 }),
      profitFactor: Type.Number({ exclusiveMinimum: 0 }),
      /** Mean pnl per outcome in the backtest; compared only when positive. */
      avgPnl: Type.Union([Money, Type.Null()]),
      source: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
      registeredBy: ActorId,
      registeredAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const StrategyPaused = defineMessage({
  type: 'gate.StrategyPaused',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'The strategy is paused until an operator resumes it or its cooldown passes (reason `drift` when drift crossed the pause threshold).',
  data: Type.Object(
    {
      reason: Type.String({ minLength: 1, maxLength: 1000 }),
      /** Set when drift paused the strategy: the deviation and the threshold it crossed. */
      drift: Type.Union([object({ value: Ratio, threshold: Ratio }), Type.Null()]),
      cooldownUntil: Type.Union([Timestamp, Type.Null()]),
      pausedBy: ActorId,
      pausedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const StrategyResumed = defineMessage({
  type: 'gate.StrategyResumed',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'An operator lifted the pause of a strategy.',
  data: Type.Object(
    {
      reason: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
      resumedBy: ActorId,
      resumedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const TokenScope = Type.Object(
  {
    /** Action kinds the token covers; `*` covers every kind. */
    actionKinds: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type TokenScope = Static<typeof TokenScope>;

export const TokenIssued = defineMessage({
  type: 'gate.TokenIssued',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'An execution token: scoped to action kinds, optionally capped in notional and bound to one action hash, valid until expiry or revocation.',
  data: Type.Object(
    {
      tokenId: TokenId,
      scope: TokenScope,
      maxNotional: Type.Union([Money, Type.Null()]),
      expiresAt: Timestamp,
      singleUse: Type.Boolean(),
      boundActionHash: Type.Union([ActionHash, Type.Null()]),
      /** Set when the token was issued by granting an approval. */
      approvalId: Type.Union([ApprovalId, Type.Null()]),
      issuedBy: ActorId,
      issuedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const TokenRevoked = defineMessage({
  type: 'gate.TokenRevoked',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'An operator revoked one execution token.',
  data: Type.Object(
    {
      tokenId: TokenId,
      reason: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
      revokedBy: ActorId,
      revokedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const TokensRevoked = defineMessage({
  type: 'gate.TokensRevoked',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'Bulk revocation: every token of the strategy that was still usable.',
  data: Type.Object(
    {
      tokenIds: Type.Array(TokenId, { minItems: 1 }),
      reason: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
      revokedBy: ActorId,
      revokedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const TokenConsumed = defineMessage({
  type: 'gate.TokenConsumed',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description: 'An action went ahead on an execution token; a single-use token is spent by it.',
  data: Type.Object(
    { tokenId: TokenId, actionHash: ActionHash, singleUse: Type.Boolean(), consumedAt: Timestamp },
    { additionalProperties: false },
  ),
});

export const TokenRefused = defineMessage({
  type: 'gate.TokenRefused',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'A token was presented for an action it does not cover (unknown, revoked, consumed, expired, out of scope, over notional, other action).',
  data: Type.Object(
    {
      tokenId: TokenId,
      actionHash: ActionHash,
      reason: literals(TOKEN_REFUSAL_REASONS),
      detail: Type.String(),
      refusedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const ApprovalRequested = defineMessage({
  type: 'gate.ApprovalRequested',
  version: 1,
  kind: 'event',
  producer,
  consumers: ['gate', 'projector', 'api-gateway (live stream)'],
  subject,
  description:
    'An action needs an operator approval; the approval is bound to the hash of that exact action.',
  data: Type.Object(
    {
      approvalId: ApprovalId,
      actionHash: ActionHash,
      action: GateAction,
      requestedBy: ActorId,
      expiresAt: Timestamp,
      requestedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const ApprovalGranted = defineMessage({
  type: 'gate.ApprovalGranted',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'An operator (not the requester) approved the action; a single-use token bound to its hash follows.',
  data: Type.Object(
    {
      approvalId: ApprovalId,
      approver: ActorId,
      tokenId: TokenId,
      tokenExpiresAt: Timestamp,
      grantedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const ApprovalRejected = defineMessage({
  type: 'gate.ApprovalRejected',
  version: 1,
  kind: 'event',
  producer,
  consumers,
  subject,
  description:
    'An operator rejected the approval request, or revoking every token of the strategy closed it (reason "every token revoked").',
  data: Type.Object(
    {
      approvalId: ApprovalId,
      rejectedBy: ActorId,
      reason: Type.Union([Type.String({ maxLength: 1000 }), Type.Null()]),
      rejectedAt: Timestamp,
    },
    { additionalProperties: false },
  ),
});

export const gateStrategyMessages = [
  StrategyRegistered,
  StrategyCapitalSet,
  OutcomeRecorded,
  MaturityPromoted,
  MaturityDemoted,
  MaturityOverridden,
  DemotionAcknowledged,
  BaselineRegistered,
  StrategyPaused,
  StrategyResumed,
  TokenIssued,
  TokenRevoked,
  TokensRevoked,
  TokenConsumed,
  TokenRefused,
  ApprovalRequested,
  ApprovalGranted,
  ApprovalRejected,
];
