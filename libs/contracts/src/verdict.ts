import { Type, type Static } from '@sinclair/typebox';
import { Timestamp, Uuid } from './envelope';
import { literals, idPattern } from './schema';

/** Verdict actions, most permissive first (DESIGN §3). The most restrictive one wins. */
export const VERDICT_ACTIONS = [
  'ALLOW',
  'REDUCE_SIZE',
  'REQUIRE_APPROVAL',
  'BLOCK',
  'DEMOTE',
  'PAUSE',
  'KILL',
] as const;
export type VerdictAction = (typeof VERDICT_ACTIONS)[number];
export const VerdictActionSchema = literals(VERDICT_ACTIONS);

/** Severity rank of an action: higher is more restrictive. */
export function actionRank(action: VerdictAction): number {
  return VERDICT_ACTIONS.indexOf(action);
}

export const RISK_LEVELS = ['NONE', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
export const RiskLevelSchema = literals(RISK_LEVELS);

/** An id of an engine or strategy: a single subject token, so it can appear in NATS subjects. */
export const EntityId = Type.String({
  pattern: idPattern('^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$'),
  examples: ['wholesale-bot'],
});

/**
 * Money is integer minor units plus an ISO 4217 code, never a float (DESIGN §4). An amount is
 * bounded by what JSON carries exactly (2^53 − 1): a larger one would be stored as another number,
 * and would not fit the read models' `bigint` columns once summed.
 */
export const Money = Type.Object(
  {
    amount: Type.Integer({
      minimum: -Number.MAX_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'minor units (cents)',
    }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);
export type Money = Static<typeof Money>;

/**
 * One component's contribution to a verdict: what it measured, against what, and how far the
 * measurement is from the next trip point (positive = headroom, 0 = at the limit, negative = tripped).
 */
export const Check = Type.Object(
  {
    name: Type.String(),
    outcome: VerdictActionSchema,
    value: Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]),
    threshold: Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]),
    distanceToTrip: Type.Union([Type.Number(), Type.Null()]),
    sizeMultiplier: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    reason: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Check = Static<typeof Check>;

export const ENGINE_MODES = ['enforce', 'observe', 'off'] as const;
export type EngineMode = (typeof ENGINE_MODES)[number];
export const EngineModeSchema = literals(ENGINE_MODES);

/** What every decision returns (DESIGN §3). */
export const Verdict = Type.Object(
  {
    decisionId: Uuid,
    policyRevision: Type.String({ description: 'content hash of the policies in force' }),
    action: VerdictActionSchema,
    sizeMultiplier: Type.Number({ minimum: 0, maximum: 1 }),
    riskLevel: RiskLevelSchema,
    checks: Type.Array(Check),
    mode: EngineModeSchema,
    /** In observe mode: the verdict that enforce mode would have given. */
    wouldBe: Type.Optional(Type.Object({ action: VerdictActionSchema, sizeMultiplier: Type.Number() })),
    decidedAt: Timestamp,
  },
  { additionalProperties: false },
);
export type Verdict = Static<typeof Verdict>;
