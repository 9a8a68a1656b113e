import { Type, type Static, type TSchema } from '@sinclair/typebox';

import { Actor, Timestamp, Uuid } from '../envelope';
import { okReplyOf } from '../errors';
import { defineMessage, defineRpc } from '../registry';
import { Check, EntityId, RiskLevelSchema } from '../verdict';
import { CommandReason, FactKey, literals, object, Reason } from '../schema';

/**
 * Heimdall's answer to "may this AI recommendation reach production?": every gate passed
 * (ELIGIBLE), only sandbox evidence is missing so a human decides (INCONCLUSIVE), or no.
 */
export const EVALUATION_OUTCOMES = ['ELIGIBLE', 'INCONCLUSIVE', 'NOT_ELIGIBLE'] as const;
export type EvaluationOutcome = (typeof EVALUATION_OUTCOMES)[number];

/** One gate's result: PENDING means "not enough sandbox evidence yet", never a pass. */
export const GATE_RESULTS = ['PASS', 'PENDING', 'FAIL'] as const;
export type GateResult = (typeof GATE_RESULTS)[number];

/** The gates, stacked with AND logic (seed 000 lever 3), in the order they are reported. */
export const HEIMDALL_GATES = [
  'heimdall.policy',
  'heimdall.confidence',
  'heimdall.sandboxTrials',
  'heimdall.sandboxSuccessRate',
  'heimdall.prodUse',
] as const;
export type HeimdallGate = (typeof HEIMDALL_GATES)[number];

/** A recommendation domain, e.g. `WHOLESALE_OFFER`: one policy and one scorecard each. */
export const HeimdallDomainId = EntityId;
const Count = Type.Integer({ minimum: 0 });
const Rate = Type.Number({ minimum: 0, maximum: 1 });
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', examples: ['2026-11-21'] });
export const TrialId = Type.String({ minLength: 1, maxLength: 200 });

/** The bars a domain's recommendations must clear; prod use is switched separately. */
export const HeimdallThresholds = object({
  /** The recommendation's own confidence must be at least this (equal passes). */
  minConfidence: Rate,
  /** Sandbox trials the domain needs before its success rate counts (equal passes). */
  minSandboxTrials: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  /** Cumulative sandbox success rate the domain needs (equal passes). */
  minSandboxSuccessRate: Rate,
});
export type HeimdallThresholds = Static<typeof HeimdallThresholds>;

/** `{minConfidence, minSandboxTrials, minSandboxSuccessRate, prodUseEnabled}` of one domain. */
export const HeimdallPolicy = Type.Composite(
  [HeimdallThresholds, object({ prodUseEnabled: Type.Boolean(), updatedAt: Timestamp })],
  { additionalProperties: false },
);
export type HeimdallPolicy = Static<typeof HeimdallPolicy>;

/** Trials and successes; `successRate` is null before the first trial. */
export const ScorecardTotals = object({
  trials: Count,
  successes: Count,
  successRate: Type.Union([Type.Null(), Rate]),
});
export type ScorecardTotals = Static<typeof ScorecardTotals>;

export const ScorecardDay = Type.Composite([object({ day: Day }), ScorecardTotals], {
  additionalProperties: false,
});
export type ScorecardDay = Static<typeof ScorecardDay>;

// ── Ingest: `bifrost.ingest.sandbox.<engineId>` ─────────────────────────────────────────────────

export const SandboxTrialReported = defineMessage({
  type: 'ingest.SandboxTrialReported',
  version: 1,
  kind: 'ingest',
  producer: 'engines (SDK, api-gateway)',
  consumers: ['heimdall'],
  subject: 'bifrost.ingest.sandbox.{engineId}',
  description:
    "The result of one sandbox trial of an AI recommendation domain: feeds the domain's Heimdall scorecard (per day and cumulative). A repeated trial id is counted once.",
  data: object({
    engineId: EntityId,
    domain: HeimdallDomainId,
    /** Unique per engine: a redelivered or re-sent trial is counted once. */
    trialId: FactKey,
    success: Type.Boolean(),
    /** The recommendation that was tried, when known. */
    recommendationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** The confidence the recommendation had, 0..1. */
    confidence: Type.Optional(Rate),
    detail: Type.Optional(Type.String({ maxLength: 500 })),
  }),
});

// ── Events: `bifrost.evt.heimdall.domain.<domain>` ──────────────────────────────────────────────

const domainEvent = <T extends string, D extends TSchema>(type: T, description: string, data: D) =>
  defineMessage({
    type: `heimdall.${type}` as const,
    version: 1,
    kind: 'event',
    producer: 'heimdall',
    consumers: ['heimdall (state rebuild)', 'projector'],
    subject: 'bifrost.evt.heimdall.domain.{domain}',
    description,
    data,
  });

export const HeimdallPolicyDefined = domainEvent(
  'PolicyDefined',
  "A domain's confidence charter was created (seed or operator) or its thresholds changed. Prod use is untouched: it changes only by ProdUseEnabled / ProdUseDisabled.",
  object({
    domain: HeimdallDomainId,
    thresholds: HeimdallThresholds,
    previous: Type.Union([Type.Null(), HeimdallThresholds]),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);

export const HeimdallProdUseEnabled = domainEvent(
  'ProdUseEnabled',
  'An operator promoted a domain to prod use; its scorecard cleared the bar at that moment (the evidence is attached).',
  object({
    domain: HeimdallDomainId,
    scorecard: ScorecardTotals,
    thresholds: HeimdallThresholds,
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);

export const HeimdallProdUseDisabled = domainEvent(
  'ProdUseDisabled',
  'An operator took a domain out of prod use: its recommendations are no longer eligible.',
  object({ domain: HeimdallDomainId, actor: Actor, reason: Reason, at: Timestamp }),
);

export const HeimdallProdUseRefused = domainEvent(
  'ProdUseRefused',
  'Promoting a domain to prod use was refused because its scorecard is below the bar (too few trials or too low a success rate); the failing gates are attached.',
  object({
    domain: HeimdallDomainId,
    scorecard: ScorecardTotals,
    thresholds: HeimdallThresholds,
    failing: Type.Array(Check),
    actor: Actor,
    reason: Reason,
    at: Timestamp,
  }),
);

export const HeimdallSandboxTrialRecorded = domainEvent(
  'SandboxTrialRecorded',
  "A sandbox trial entered its domain's scorecard (the day is the trial's own UTC day).",
  object({
    domain: HeimdallDomainId,
    engineId: EntityId,
    trialId: TrialId,
    success: Type.Boolean(),
    day: Day,
    recommendationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    /** The confidence the recommendation had, 0..1, as the engine reported it. */
    confidence: Type.Optional(Rate),
    /** The engine's note on the trial, as reported. */
    detail: Type.Optional(Type.String({ maxLength: 500 })),
    /** When the engine says the trial happened. */
    occurredAt: Timestamp,
    /** When Heimdall recorded it. */
    at: Timestamp,
  }),
);

// ── Requests and replies: `bifrost.rpc.heimdall.<operation>` ────────────────────────────────────

export const EvaluateRecommendationRequest = object({
  engineId: EntityId,
  domain: HeimdallDomainId,
  /** The recommendation's confidence, 0..1 (the confidence gate and the risk classifier). */
  confidence: Rate,
  /** The engine's id of the recommendation. */
  recommendationId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  /** Marks a recommendation that destroys or overwrites something (risk classifier: destructive_confirm). */
  destructive: Type.Optional(Type.Boolean()),
  /** e.g. `critical_session`, `safe_session` (risk classifier floor/ceiling). */
  sessionTags: Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 20 })),
  /** Correlates the evaluation with the engine's own records. */
  requestId: Type.Optional(Type.String({ maxLength: 200 })),
});
export type EvaluateRecommendationRequest = Static<typeof EvaluateRecommendationRequest>;

/** One gate of an evaluation: the verdict-style check plus Heimdall's own PASS / PENDING / FAIL. */
export const HeimdallGateCheck = Type.Composite([Check, object({ result: literals(GATE_RESULTS) })], {
  additionalProperties: false,
});
export type HeimdallGateCheck = Static<typeof HeimdallGateCheck>;

export const EvaluateRecommendationReply = object({
  /** Also the id of the decision record. */
  evaluationId: Uuid,
  engineId: EntityId,
  domain: HeimdallDomainId,
  recommendationId: Type.Optional(Type.String()),
  outcome: literals(EVALUATION_OUTCOMES),
  /** True only for ELIGIBLE. */
  eligible: Type.Boolean(),
  /** ELIGIBLE → ALLOW, INCONCLUSIVE → REQUIRE_APPROVAL (a human decides), NOT_ELIGIBLE → BLOCK. */
  action: literals(['ALLOW', 'REQUIRE_APPROVAL', 'BLOCK'] as const),
  riskLevel: RiskLevelSchema,
  /** Every gate, in HEIMDALL_GATES order, with value, threshold and distance (AND logic). */
  gates: Type.Array(HeimdallGateCheck),
  scorecard: ScorecardTotals,
  /** Content hash of the domain's policy (null: the domain has none). */
  policyRevision: Type.Union([Type.Null(), Type.String()]),
  decidedAt: Timestamp,
});
export type EvaluateRecommendationReply = Static<typeof EvaluateRecommendationReply>;

/** A domain as Heimdall holds it: its policy (null before one is defined) and its scorecard. */
export const HeimdallDomainView = object({
  domain: HeimdallDomainId,
  policy: Type.Union([Type.Null(), HeimdallPolicy]),
  scorecard: ScorecardTotals,
  /** The most recent days with trials (at most 30), newest first. */
  days: Type.Array(ScorecardDay),
  lastTrialAt: Type.Union([Type.Null(), Timestamp]),
});
export type HeimdallDomainView = Static<typeof HeimdallDomainView>;

export const UpsertHeimdallPolicyCommand = Type.Composite(
  [HeimdallThresholds, object({ actor: Actor, reason: CommandReason, domain: HeimdallDomainId })],
  { additionalProperties: false },
);
export type UpsertHeimdallPolicyCommand = Static<typeof UpsertHeimdallPolicyCommand>;

export const HeimdallProdUseCommand = object({
  actor: Actor,
  reason: CommandReason,
  domain: HeimdallDomainId,
});
export type HeimdallProdUseCommand = Static<typeof HeimdallProdUseCommand>;

/** What an operator command returns: the events it caused (empty: nothing changed) and the domain after it. */
export const HeimdallCommandReply = object({
  events: Type.Array(object({ type: Type.String(), data: Type.Record(Type.String(), Type.Unknown()) })),
  domain: HeimdallDomainView,
});
export type HeimdallCommandReply = Static<typeof HeimdallCommandReply>;

const heimdallRpc = <Req extends TSchema, Res extends TSchema>(
  operation: string,
  request: Req,
  response: Res,
  description: string,
) => defineRpc({ service: 'heimdall', operation, request, response: okReplyOf(response), description });

export const heimdallRpcs = [
  heimdallRpc(
    'evaluate',
    EvaluateRecommendationRequest,
    EvaluateRecommendationReply,
    'Before an AI recommendation reaches production: every gate (policy, confidence, sandbox trials, success rate, prod use) with AND logic. Answered only after the evaluation record is acknowledged by JetStream.',
  ),
  heimdallRpc(
    'cmd.upsert-policy',
    UpsertHeimdallPolicyCommand,
    HeimdallCommandReply,
    "Operator: create a domain's policy or change its thresholds (prod use unchanged).",
  ),
  heimdallRpc(
    'cmd.enable-prod-use',
    HeimdallProdUseCommand,
    HeimdallCommandReply,
    'Operator: promote a domain to prod use; refused (ProdUseRefused) while its scorecard is below the bar.',
  ),
  heimdallRpc(
    'cmd.disable-prod-use',
    HeimdallProdUseCommand,
    HeimdallCommandReply,
    'Operator: take a domain out of prod use.',
  ),
  heimdallRpc(
    'policies',
    object({}),
    object({ domains: Type.Array(HeimdallDomainView) }),
    'Every domain with its policy and scorecard, live from Heimdall.',
  ),
];

/** The decision record of every evaluation, on `bifrost.dec.heimdall.<engineId>`. */
export const HeimdallRecommendationEvaluated = defineMessage({
  type: 'heimdall.RecommendationEvaluated',
  version: 1,
  kind: 'decision',
  producer: 'heimdall',
  consumers: ['projector', 'api-gateway (live stream)'],
  subject: 'bifrost.dec.heimdall.{engineId}',
  description: "An AI recommendation evaluated against its domain's gates, with every gate explained.",
  data: object({ request: EvaluateRecommendationRequest, reply: EvaluateRecommendationReply }),
});

export const heimdallMessages = [
  SandboxTrialReported,
  HeimdallPolicyDefined,
  HeimdallProdUseEnabled,
  HeimdallProdUseDisabled,
  HeimdallProdUseRefused,
  HeimdallSandboxTrialRecorded,
  HeimdallRecommendationEvaluated,
];
